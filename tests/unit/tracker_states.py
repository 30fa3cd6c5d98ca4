"""A conversation with every kind of event that changes a tracker's state, and that state in full.

Shared by the tracker copy and tracker store cache tests: a copy or a cached read must give the
same state as Rasa's own replay of the stored events.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from rasa.core.training import load_data
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    Event,
    FollowupAction,
    LoopInterrupted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from tests.paths import PROJECT_ROOT


def _user(text: str, intent: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, [], None)


def turns() -> list[list[Event]]:
    """Turns of a conversation (each a list of events as Rasa stores them)."""
    return [
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
        ],
        [
            _user("家里收到一台pos机", "report_unordered_device"),
            DefinePrevUserUtteredFeaturization(False),
            SlotSet("situation", "unordered_device"),
            ActionExecuted("unordered_device_form"),
            ActiveLoop("unordered_device_form"),
            SlotSet("requested_slot", "asked_for_codes_or_money"),
            BotUttered("有没有人联系您？", {"buttons": [{"title": "是", "payload": "/affirm"}]}),
            ActionExecuted("action_listen"),
        ],
        [
            _user("押金多少", "ask_fees"),
            ActionExecutionRejected("unordered_device_form"),
            LoopInterrupted(True),
            ActionExecuted("utter_fees"),
            BotUttered("押金一般是…"),
            ActionExecuted("unordered_device_form"),
            SlotSet("requested_slot", "asked_for_codes_or_money"),
            ActionExecuted("action_listen"),
        ],
        [
            _user("没有", "deny"),
            ActionExecuted("unordered_device_form"),
            SlotSet("asked_for_codes_or_money", False),
            SlotSet("advised_answers", ["asked_for_codes_or_money"]),
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            ActionExecuted("action_give_advice"),
            FollowupAction("action_listen"),
            ActionExecuted("action_listen"),
        ],
        [
            _user("嗯嗯", "nlu_fallback"),
            ActionExecuted("action_default_ask_affirmation"),
            BotUttered("您是想问这个吗？"),
            ActionExecuted("action_listen"),
            UserUtteranceReverted(),
            ActionExecuted("action_listen"),
        ],
        [
            _user("谢谢", "thank"),
            ActionExecuted("utter_you_are_welcome", hide_rule_turn=True),
            BotUttered("不客气"),
            ActionExecuted("action_listen", hide_rule_turn=True),
        ],
        [
            _user("转人工", "request_human"),
            SlotSet("human_offered", True),
            ActionExecuted("action_handoff"),
            ConversationPaused(),
            ActionExecuted("action_listen"),
        ],
        [
            ConversationResumed(),
            _user("好的", "affirm"),
            ActionExecuted("action_listen"),
        ],
    ]


def all_events() -> list[Event]:
    return [event for turn in turns() for event in turn]


def full_state(tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """Everything a replay recreates, and what the policies read from it."""
    return {
        "current_state": json.loads(
            json.dumps(tracker.current_state(EventVerbosity.ALL), sort_keys=True, default=str)
        ),
        "followup_action": tracker.followup_action,
        "paused": tracker.is_paused(),
        "active_loop": dataclasses.asdict(tracker.active_loop) if tracker.active_loop else None,
        "latest_action": tracker.latest_action,
        "slots": {name: (slot.value, slot._has_been_set) for name, slot in tracker.slots.items()},
        "past_states": tracker.past_states(domain),
        "rule_past_states": tracker.past_states(domain, ignore_rule_only_turns=True),
        "applied_events": [event.as_dict() for event in tracker.applied_events()],
    }


def stories_one_after_another(domain: Domain) -> list[Event]:
    """Every training and test story in one conversation (about 400 predictions, most by rules;
    forms filled, interrupted and ended)."""
    trackers = load_data(str(PROJECT_ROOT / "data" / "stories"), domain, augmentation_factor=0)
    trackers += load_data(str(PROJECT_ROOT / "tests" / "stories"), domain, augmentation_factor=0)
    return [event for tracker in trackers for event in tracker.events]

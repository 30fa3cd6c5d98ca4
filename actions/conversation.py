"""Conversation glue: session start, clarification, out-of-scope, yes/no outside forms.

A "failed turn" is one the assistant answered with a clarification or an out-of-scope reply.
Two failed turns in a row offer a human. Failures are read from the tracker's events instead of a
counter slot, so nothing has to remember to reset a counter.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ConversationPaused,
    EventType,
    FollowupAction,
    SessionStarted,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher

from actions.fact_corrections import steps_for_corrected_fact
from actions.knowledge_replies import answered_in_context
from actions.memory import is_correction, readable
from actions.tone import angry_emoji, no_words
from actions.tracker_reading import SITUATION_SLOT, latest_intent, latest_text, previous_turn
from actions.two_questions import load_table, topic_of
from pos_assistant.knowledge import KnowledgeError, get_knowledge_base
from pos_assistant.knowledge.prefill import whole_reply
from pos_assistant.situations import situations

TOPICS_FILE = Path(__file__).resolve().parent.parent / "data" / "topics.yml"
FAILURE_ACTIONS = {"action_clarify", "action_out_of_scope"}
WHAT_HAPPENED_RESPONSE = "utter_ask_what_happened"
SENT_BEFORE_RESPONSE = "utter_advice_sent_before"
MAX_CLARIFY_OPTIONS = 3
MIN_CLARIFY_CONFIDENCE = 0.05


@lru_cache(maxsize=1)
def topic_labels() -> dict[str, str]:
    """Intent → short Chinese label: the situations' (data/situations.yml), then data/topics.yml."""
    with TOPICS_FILE.open(encoding="utf-8") as handle:
        others = dict(yaml.safe_load(handle)["topics"])
    return {**{entry.intent: entry.topic_label for entry in situations().entries}, **others}


def actions_since_previous_user_turn(tracker: Tracker) -> list[str]:
    """Names of the actions run between the previous user message and the latest one."""
    return [
        event.get("name") or ""
        for event in previous_turn(tracker)
        if event.get("event") == "action"
    ][::-1]


def previous_turn_failed(tracker: Tracker) -> bool:
    return any(name in FAILURE_ACTIONS for name in actions_since_previous_user_turn(tracker))


def clarification_candidates(tracker: Tracker) -> list[str]:
    """Up to three topic intents the message most likely meant, best first."""
    labels = topic_labels()
    ranking: list[dict[str, Any]] = tracker.latest_message.get("intent_ranking") or []
    candidates = [
        entry["name"]
        for entry in ranking
        if entry.get("name") in labels and (entry.get("confidence") or 0) >= MIN_CLARIFY_CONFIDENCE
    ]
    return candidates[:MAX_CLARIFY_OPTIONS]


def answer_without_words(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Gently asks what happened; anger (or a second miss in a row) also offers a person."""
    dispatcher.utter_message(response=WHAT_HAPPENED_RESPONSE)
    text = latest_text(tracker)
    if angry_emoji(text) or previous_turn_failed(tracker):
        return offer_human(dispatcher)
    return [SlotSet("human_offered", False)]


def offer_human(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(response="utter_offer_human")
    return [SlotSet("human_offered", True)]


def started_explicitly(tracker: Tracker) -> bool:
    """True when the session was started by the special /session_start message."""
    return latest_intent(tracker) == "session_start"


class ActionSessionStart(Action):
    """Starts a session; a handed-over conversation stays with the agent."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        # Carry the slots over (session_config says so), except the one-turn offer flag.
        for key, value in tracker.current_slot_values().items():
            if value is not None and key not in {"human_offered", "requested_slot"}:
                events.append(SlotSet(key, value))
        if tracker.is_paused():
            # SessionStarted resets the pause: keep a handed-over conversation with the agent.
            events.append(ConversationPaused())
        elif started_explicitly(tracker):
            # Only a client's explicit /session_start (widget opened, WeChat subscribe) gets the
            # welcome here. A session started by a real message is answered by that message's
            # own reply, so a scam warning is never pushed below a welcome.
            dispatcher.utter_message(response="utter_session_welcome")
        events.append(ActionExecuted("action_listen"))
        return events


class ActionClarify(Action):
    """Low-confidence or ambiguous message: ask "您是想问……吗？" with the likely topics."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if no_words(latest_text(tracker)):
            return answer_without_words(dispatcher, tracker)
        if answered_in_context(dispatcher, tracker):
            return [SlotSet("human_offered", False)]
        candidates = clarification_candidates(tracker)
        if candidates:
            labels = topic_labels()
            dispatcher.utter_message(
                response="utter_clarify_topics",
                topics="、".join(f"“{labels[name]}”" for name in candidates),
                buttons=[{"title": labels[name], "payload": f"/{name}"} for name in candidates],
            )
        else:
            dispatcher.utter_message(response="utter_default")
        if previous_turn_failed(tracker):
            return offer_human(dispatcher)
        return [SlotSet("human_offered", False)]


def reminded_of_advised_situation(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """ "押金的事怎么办啊" read as out of scope after the deposit steps: it asks about the situation
    advised last, whose steps were sent; they are named and offered again."""
    code = tracker.get_slot(SITUATION_SLOT)
    entry = situations().get(code)
    if entry is None:
        return False
    topic = topic_of(readable(latest_text(tracker)), load_table())
    if topic is None or topic.key != entry.intent:
        return False
    try:
        title = get_knowledge_base().situations[code].title
    except (KnowledgeError, KeyError):
        return False
    dispatcher.utter_message(response=SENT_BEFORE_RESPONSE, title=title)
    return True


# Under this the classifier's "yes" / "no" is a guess: a message naming a situation is its report.
YES_NO_GUESS_CONFIDENCE = 0.5


def situation_reported_as_yes_no(tracker: Tracker) -> list[EventType] | None:
    """ "部机冇开过，佢哋唔肯退按金" read, unsurely, as a "no": no yes/no word makes it one, and it
    names a situation, so that situation's questions start (as for a second question)."""
    text = readable(latest_text(tracker))
    confidence = float(((tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0)
    if confidence >= YES_NO_GUESS_CONFIDENCE or whole_reply(text) is not None:
        return None
    if is_correction(text) or text.startswith("/"):
        return None  # "不对，我没交押金" corrects the memory; it reports nothing new
    topic = topic_of(text, load_table())
    entry = situations().by_intent(topic.key) if topic else None
    if entry is None or entry.scam:
        return None  # a scam message is SafetyGuard's, never a guess here
    return [*(SlotSet(slot, None) for slot in entry.asks), FollowupAction(entry.form)]


class ActionOutOfScope(Action):
    """Says what the assistant covers; the second miss in a row offers a human."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if no_words(latest_text(tracker)):
            return answer_without_words(dispatcher, tracker)
        if answered_in_context(dispatcher, tracker) or reminded_of_advised_situation(
            dispatcher, tracker
        ):
            return [SlotSet("human_offered", False)]
        dispatcher.utter_message(response="utter_out_of_scope")
        if previous_turn_failed(tracker):
            return offer_human(dispatcher)
        return [SlotSet("human_offered", False)]


class ActionDeclineHuman(Action):
    """The user said no to the offered human: carry on with the assistant."""

    def name(self) -> str:
        return "action_decline_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_continue_with_assistant")
        return [SlotSet("human_offered", False)]


class ActionAcknowledgeYesNo(Action):
    """A 是/好的 or 不是/没有 that answers no pending question: acknowledge, don't guess; one that
    corrects a remembered fact the last steps used gets those steps adjusted."""

    def name(self) -> str:
        return "action_acknowledge_yes_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        adjusted = steps_for_corrected_fact(dispatcher, tracker)
        if adjusted is not None:
            return adjusted  # "不对，我不是网购": the steps for what is true now
        reported = situation_reported_as_yes_no(tracker)
        if reported is not None:
            return reported
        response = "utter_ack_affirm" if latest_intent(tracker) == "affirm" else "utter_ack_deny"
        dispatcher.utter_message(response=response)
        return []

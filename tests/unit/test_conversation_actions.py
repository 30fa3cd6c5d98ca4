"""Conversation glue actions, driven with real trackers and the real domain."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    ActionAcknowledgeYesNo,
    ActionClarify,
    ActionOutOfScope,
    ActionSessionStart,
    topic_labels,
)
from tests.paths import PROJECT_ROOT
from tests.unit.trackers import build_tracker

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def user(text: str, intent: str, ranking: list[tuple[str, float]] | None = None) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [])],
            "entities": [],
        },
    }


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def bot(response: str) -> dict:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}


def tracker_of(events: list[dict], paused: bool = False, slots: dict | None = None) -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")
    message = {**latest["parse_data"], "text": latest["text"]}
    return build_tracker(latest["text"], slots=slots, message=message, events=events, paused=paused)


async def run(action_class: Any, tracker: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await action_class().run(dispatcher, tracker, DOMAIN)
    for message in dispatcher.messages:
        if message.get("response"):
            # Every response an action sends must exist, checked where it is sent.
            assert message["response"] in DOMAIN["responses"], message["response"]
    return dispatcher.messages, events


def test_every_topic_label_is_an_intent_in_the_domain() -> None:
    assert set(topic_labels()) <= set(DOMAIN["intents"])


async def test_clarify_offers_the_top_topics_as_buttons() -> None:
    ranking = [("nlu_fallback", 0.5), ("ask_fees", 0.41), ("greet", 0.3), ("ask_apply", 0.2)]
    messages, events = await run(
        ActionClarify,
        tracker_of([action("action_listen"), user("押金咋弄", "nlu_fallback", ranking)]),
    )
    assert messages[0]["response"] == "utter_clarify_topics"
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_fees", "/ask_apply"]
    assert "POS机收费" in messages[0]["topics"]
    assert {"event": "slot", "name": "human_offered", "value": False, "timestamp": None} in events


async def test_clarify_without_candidates_asks_to_rephrase() -> None:
    messages, _ = await run(
        ActionClarify, tracker_of([user("嗯嗯啊", "nlu_fallback", [("greet", 0.4)])])
    )
    assert [m["response"] for m in messages] == ["utter_default"]


async def test_second_miss_in_a_row_offers_a_human() -> None:
    events = [
        user("asdf", "out_of_scope"),
        action("action_out_of_scope"),
        bot("utter_out_of_scope"),
        action("action_listen"),
        user("qwer", "nlu_fallback", [("ask_fees", 0.3)]),
    ]
    messages, returned = await run(ActionClarify, tracker_of(events))
    assert [m["response"] for m in messages] == ["utter_clarify_topics", "utter_offer_human"]
    assert returned[0]["name"] == "human_offered" and returned[0]["value"] is True


async def test_a_miss_after_a_real_answer_does_not_offer_a_human() -> None:
    events = [
        user("押金多少", "ask_fees"),
        action("action_answer_faq"),
        bot("utter_faq"),
        action("action_listen"),
        user("今天天气", "out_of_scope"),
    ]
    messages, _ = await run(ActionOutOfScope, tracker_of(events))
    assert [m["response"] for m in messages] == ["utter_out_of_scope"]


async def test_explicit_session_start_welcomes_and_carries_slots() -> None:
    tracker = tracker_of(
        [user("/session_start", "session_start")], slots={"situation": "gift_not_mailed"}
    )
    messages, events = await run(ActionSessionStart, tracker)
    assert [m["response"] for m in messages] == ["utter_session_welcome"]
    assert events[0]["event"] == "session_started"
    assert {
        "event": "slot",
        "name": "situation",
        "value": "gift_not_mailed",
        "timestamp": None,
    } in (events)
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"


async def test_session_started_by_a_message_leaves_the_answer_to_that_message() -> None:
    tracker = build_tracker(message={}, events=[])
    messages, events = await run(ActionSessionStart, tracker)
    assert messages == []
    assert events[0]["event"] == "session_started"


async def test_session_start_keeps_a_handed_over_conversation_paused_and_silent() -> None:
    messages, events = await run(
        ActionSessionStart, tracker_of([user("在吗", "greet")], paused=True)
    )
    assert messages == []
    assert any(e["event"] == "pause" for e in events)


@pytest.mark.parametrize(
    ("intent", "response"), [("affirm", "utter_ack_affirm"), ("deny", "utter_ack_deny")]
)
async def test_yes_or_no_without_a_question_is_acknowledged(intent: str, response: str) -> None:
    messages, events = await run(ActionAcknowledgeYesNo, tracker_of([user("好的", intent)]))
    assert [m["response"] for m in messages] == [response]
    assert events == []

"""action_validate_slot_mappings: the privacy notice and the "still waiting" reminder."""

from __future__ import annotations

import time

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.every_message import ActionValidateSlotMappings, needs_waiting_reminder
from pos_assistant.settings import get_settings
from tests.unit.test_conversation_actions import DOMAIN
from tests.unit.trackers import build_tracker, parse_data, user_event

# "Now" for these tests: the real time when the module is loaded, handed to the action as its
# clock, so every timestamp below is relative to today and no date can make a test go off.
NOW = time.time()


def tracker_with(
    intent: str = "ask_fees",
    secrets: list[str] | None = None,
    paused: bool = False,
    last_reply_seconds_ago: float | None = None,
) -> Tracker:
    extras = {"sensitive_data": {"secrets": secrets}} if secrets is not None else {}
    message = parse_data("……", intent, confidence=0.8, **extras)
    events: list[dict] = []
    if last_reply_seconds_ago is not None:
        events.append({"event": "bot", "text": "…", "timestamp": NOW - last_reply_seconds_ago})
    if paused:
        events.append({"event": "pause", "timestamp": NOW - (last_reply_seconds_ago or 0)})
    events.append(user_event("……", message, timestamp=NOW))
    return build_tracker("……", message=message, events=events, paused=paused)


async def responses_for(tracker: Tracker, now: float = NOW) -> tuple[list[str], list[dict]]:
    dispatcher = CollectingDispatcher()
    action = ActionValidateSlotMappings(clock=lambda: now)
    events = await action.run(dispatcher, tracker, DOMAIN)
    sent = [message["response"] for message in dispatcher.messages]
    assert set(sent) <= set(DOMAIN["responses"]), "a response sent that domain.yml lacks"
    return sent, events


def test_the_action_is_in_the_domain() -> None:
    assert ActionValidateSlotMappings().name() in DOMAIN["actions"]


async def test_a_typed_card_number_gets_the_notice_and_no_slot_changes() -> None:
    tracker = tracker_with("report_no_activation_refund", secrets=["card_number"])
    responses, events = await responses_for(tracker)
    assert responses == ["utter_sensitive_data_notice"]
    assert events == []  # every slot Rasa extracted is kept


async def test_ordinary_messages_get_nothing() -> None:
    assert await responses_for(tracker_with("ask_fees")) == ([], [])


async def test_the_scam_warning_is_not_doubled() -> None:
    responses, _ = await responses_for(
        tracker_with("report_suspicious_call", secrets=["verification_code"])
    )
    assert responses == []


async def test_while_waiting_for_a_person_the_notice_is_given_even_for_a_scam_message() -> None:
    tracker = tracker_with(
        "report_suspicious_call", secrets=["card_number"], paused=True, last_reply_seconds_ago=1
    )
    responses, _ = await responses_for(tracker)
    assert responses == ["utter_sensitive_data_notice"]


@pytest.mark.parametrize(
    ("paused", "seconds_ago", "reminded"),
    [
        (True, 600, True),  # waiting for a person, ten minutes of silence
        (True, 120, True),
        (True, 30, False),  # the handoff message (or an agent) spoke just now
        (False, 600, False),  # not handed over: the assistant answers anyway
    ],
)
def test_a_waiting_user_is_reminded_after_silence(
    paused: bool, seconds_ago: float, reminded: bool
) -> None:
    tracker = tracker_with(paused=paused, last_reply_seconds_ago=seconds_ago)
    assert needs_waiting_reminder(tracker, now=NOW, interval_seconds=120) is reminded


async def test_the_reminder_is_uttered_while_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_REMINDER_SECONDS", "60")
    get_settings.cache_clear()
    try:
        tracker = tracker_with(secrets=["card_number"], paused=True, last_reply_seconds_ago=1)
        just_after = await responses_for(tracker)
        an_hour_later = await responses_for(tracker, now=NOW + 3600)
    finally:
        get_settings.cache_clear()
    assert just_after == (["utter_sensitive_data_notice"], [])
    assert an_hour_later == (["utter_sensitive_data_notice", "utter_handoff_still_waiting"], [])


def test_the_action_reads_the_real_clock_by_default() -> None:
    assert abs(ActionValidateSlotMappings().clock() - time.time()) < 60

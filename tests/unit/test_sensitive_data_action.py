"""The privacy notice Rasa asks the action server for after every user message."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.sensitive_data import ActionValidateSlotMappings
from tests.unit.test_conversation_actions import DOMAIN


def tracker_with(intent: str, secrets: list[str] | None) -> Tracker:
    parse_data = {"text": "……", "intent": {"name": intent, "confidence": 0.8}, "entities": []}
    if secrets is not None:
        parse_data["sensitive_data"] = {"secrets": secrets}
    return Tracker.from_dict(
        {
            "sender_id": "tester",
            "slots": {"phone_number": "13812345678"},
            "latest_message": parse_data,
            "events": [{"event": "user", "text": "……", "parse_data": parse_data}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def notices_for(tracker: Tracker) -> tuple[list[str], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await ActionValidateSlotMappings().run(dispatcher, tracker, DOMAIN)
    return [message["response"] for message in dispatcher.messages], events


def test_the_notice_exists_in_the_domain() -> None:
    assert "utter_sensitive_data_notice" in DOMAIN["responses"]
    assert "action_validate_slot_mappings" in DOMAIN["actions"]


async def test_a_typed_card_number_gets_the_notice_and_no_slot_changes() -> None:
    responses, events = await notices_for(
        tracker_with("report_no_activation_refund", ["card_number"])
    )
    assert responses == ["utter_sensitive_data_notice"]
    assert events == []  # every slot Rasa extracted is kept


async def test_ordinary_messages_get_nothing() -> None:
    assert await notices_for(tracker_with("ask_fees", None)) == ([], [])


async def test_the_scam_warning_is_not_doubled() -> None:
    responses, _ = await notices_for(tracker_with("report_suspicious_call", ["verification_code"]))
    assert responses == []

"""A user typed their own card number, ID number, code or password: ask them not to.

Rasa calls `action_validate_slot_mappings` after every user message, before anything else answers
it (ActionExtractSlots), and sends the messages it utters. That makes it the one place where the
notice comes first in every state of the conversation (inside a form too), while the message itself
is still answered as what it asked. SafetyGuard marks such messages with `sensitive_data`; the
message is stored masked (pos_assistant/tracker_store.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

NOTICE_RESPONSE = "utter_sensitive_data_notice"
# The scam warning already says not to tell anyone, the assistant included.
SCAM_INTENT = "report_suspicious_call"


def typed_secrets(tracker: Tracker) -> list[str]:
    """The kinds of secret the latest user message gave away, as SafetyGuard found them."""
    return list(((tracker.latest_message or {}).get("sensitive_data") or {}).get("secrets") or [])


class ActionValidateSlotMappings(Action):
    """Runs on every user message; keeps every extracted slot as it is (returns no SlotSet)."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if typed_secrets(tracker) and intent != SCAM_INTENT:
            dispatcher.utter_message(response=NOTICE_RESPONSE)
        return []

"""What is said about every user message before anything else answers it.

Rasa calls `action_validate_slot_mappings` after every user message (ActionExtractSlots), also
while the conversation is paused for a person, and sends what it utters. It keeps every slot Rasa
extracted (it returns no SlotSet). It says:
- the privacy notice, when the user typed their own card/ID number, code or password;
- a "still waiting" reminder, when the conversation waits for a person and nobody has answered
  for a while (otherwise a handed-over user writes into silence).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import REMINDER_RESPONSE, needs_waiting_reminder
from actions.sensitive_data import NOTICE_RESPONSE, needs_privacy_notice
from pos_assistant.settings import get_settings


class ActionValidateSlotMappings(Action):
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        # The one source of "now" for the reminder (seconds since the epoch, like event
        # timestamps); tests pass their own so that no test depends on the calendar.
        self.clock = clock

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if needs_privacy_notice(tracker):
            dispatcher.utter_message(response=NOTICE_RESPONSE)
        interval = get_settings().handoff_reminder_seconds
        if needs_waiting_reminder(tracker, now=self.clock(), interval_seconds=interval):
            dispatcher.utter_message(response=REMINDER_RESPONSE)
        return []

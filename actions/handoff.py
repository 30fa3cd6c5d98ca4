"""action_handoff_to_human: queue the conversation for a human agent and pause the assistant.

While paused, Rasa still logs what the user sends (the agent reads it in the tracker); staff give
the conversation back with `python -m pos_assistant.staff handoff release <id>`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_reading import (
    CASE_NUMBER_SLOT,
    VERIFIED_NUMBER_SLOT,
    channel_of,
    client_address_of,
    events_of,
)
from pos_assistant.cases import provider
from pos_assistant.cases.errors import AccessDenied, CaseStoreError, RateLimited
from pos_assistant.cases.identifiers import mask_numbers_in_text, normalize_case_number
from pos_assistant.cases.store import CaseStore
from pos_assistant.staff.sanitize import strip_control_characters
from pos_assistant.staff.transcript import situation_discussed

logger = logging.getLogger(__name__)

SUMMARY_MESSAGES = 3
SUMMARY_MAX_CHARS = 300


def conversation_summary(tracker: Tracker) -> str:
    """The user's last three messages, phones masked, cut to a length an agent reads at once."""
    texts = [
        str(event.get("text")).strip() for event in events_of(tracker, "user") if event.get("text")
    ]
    recent = [text for text in texts if not text.startswith("/")][-SUMMARY_MESSAGES:]
    summary = strip_control_characters(
        mask_numbers_in_text(" / ".join(recent)), keep_newlines=False
    )
    if len(summary) > SUMMARY_MAX_CHARS:
        summary = summary[: SUMMARY_MAX_CHARS - 1] + "…"
    return summary


def verified_case_number(store: CaseStore, tracker: Tracker) -> str | None:
    """The case to show the agent: only one this conversation is verified for, so a typed
    number never makes an agent believe the user owns someone else's case."""
    for slot in (VERIFIED_NUMBER_SLOT, CASE_NUMBER_SLOT):
        number = normalize_case_number(tracker.get_slot(slot))
        if number is None:
            continue
        try:
            store.verified_case(number, tracker.sender_id)
        except AccessDenied:
            continue
        return number
    return None


class ActionHandoffToHuman(Action):
    def name(self) -> str:
        return "action_handoff_to_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        store = provider.get_case_store()
        try:
            request = store.handoffs.enqueue(
                tracker.sender_id,
                channel=channel_of(tracker),
                summary=conversation_summary(tracker),
                category=situation_discussed(tracker.slots, tracker.events),
                case_number=verified_case_number(store, tracker),
                client_address=client_address_of(tracker),
            )
        except RateLimited:
            logger.warning("handoff refused: rate limit reached")
            dispatcher.utter_message(response="utter_handoff_rate_limited")
            return []
        except CaseStoreError as error:
            # Without a queue entry no agent would ever see the conversation: do not pause.
            logger.warning("handoff not queued: %s", error.__class__.__name__)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        logger.info("conversation %s queued for a human agent", request.conversation_id)
        dispatcher.utter_message(response="utter_handoff_started")
        return [ConversationPaused()]

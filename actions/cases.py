"""Case actions: confirm and write a new case, report a looked-up case, leave the case form.

Replies are domain responses (utter_case_*) filled with values; labels come from
data/case_labels.yml. Phones are always masked in what the user sees and in logs.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge_replies import answered_in_context
from actions.tracker_reading import (
    CASE_NUMBER_SLOT,
    EXTRA_SLOTS,
    MISSES_SLOT,
    VERIFIED_NUMBER_SLOT,
    channel_of,
    client_address_of,
    last_event,
    latest_entities,
)
from pos_assistant.attachments.provider import attach_held_photos
from pos_assistant.cases import provider
from pos_assistant.cases.errors import (
    AccessDenied,
    CaseNotOpen,
    CaseStoreError,
    RateLimited,
    StoreUnavailable,
)
from pos_assistant.cases.identifiers import mask_numbers_in_text, mask_phone, normalize_case_number
from pos_assistant.cases.labels import CaseLabels, load_case_labels
from pos_assistant.cases.records import Case, NewCase
from pos_assistant.china_time import beijing_time

logger = logging.getLogger(__name__)

OPEN_CASE_FORM = "open_case_form"
FORM_SLOTS = ("case_category", "case_description", "case_extra_info", "case_confirmed")
LOOKUP_SLOTS = ("case_lookup_last4", "case_lookup_outcome", "case_lookup_wait_minutes")


def local_time(case_time: Any) -> str:
    return beijing_time(case_time)


def extras_text(tracker: Tracker, labels: CaseLabels) -> str:
    parts = [
        f"{labels.extra_fields[slot]} {tracker.get_slot(slot)}"
        for slot in EXTRA_SLOTS
        if tracker.get_slot(slot)
    ]
    return "；".join(parts) if parts else labels.nothing_given


def form_run_marker(tracker: Tracker) -> str:
    """When this run of the case form started: the idempotency key's per-run part."""
    started = last_event(tracker, "active_loop", lambda event: event.get("name") == OPEN_CASE_FORM)
    return str(started.get("timestamp")) if started else "no-form-run"


def clear_form_slots() -> list[EventType]:
    return [SlotSet(slot, None) for slot in (*FORM_SLOTS, *EXTRA_SLOTS, MISSES_SLOT)]


class ActionAskCaseConfirmed(Action):
    """Shows the summary (phone masked) and asks 是/否 before anything is written."""

    def name(self) -> str:
        return "action_ask_case_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        labels = load_case_labels()
        dispatcher.utter_message(
            response="utter_case_summary",
            category=labels.category(tracker.get_slot("case_category")),
            phone=mask_phone(tracker.get_slot("phone_number")),
            description=str(tracker.get_slot("case_description") or "")[:300],
            extras=extras_text(tracker, labels),
        )
        return []


class ActionSubmitCase(Action):
    def name(self) -> str:
        return "action_submit_case"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("case_confirmed") is not True:
            dispatcher.utter_message(response="utter_case_not_submitted")
            return clear_form_slots()
        new_case = NewCase(
            category=tracker.get_slot("case_category") or "other",
            contact_phone=tracker.get_slot("phone_number") or "",
            description=tracker.get_slot("case_description") or "",
            channel=channel_of(tracker),  # information only
            # The opener is the namespaced conversation id; only trusted ones count as openers.
            channel_user_id=tracker.sender_id,
            idempotency_key=f"{tracker.sender_id}:{form_run_marker(tracker)}",
            brand=tracker.get_slot("brand"),
            device_serial=tracker.get_slot("device_sn"),
            tracking_number=tracker.get_slot("tracking_number"),
            amount=tracker.get_slot("amount"),
        )
        try:
            case = provider.get_case_store().create_case(
                new_case, client_address=client_address_of(tracker)
            )
        except RateLimited:
            logger.warning("case creation refused: rate limit reached")
            dispatcher.utter_message(response="utter_case_create_rate_limited")
            return clear_form_slots()
        except CaseStoreError as error:
            # Keep what the user typed; only the confirmation is asked again on retry.
            logger.warning("case not written: %s", error.__class__.__name__)
            dispatcher.utter_message(response="utter_case_store_unavailable")
            return [SlotSet("case_confirmed", None)]
        dispatcher.utter_message(
            response="utter_case_created",
            case_number=case.case_number,
            phone=case.masked_phone,
        )
        attach_held_photos(tracker.sender_id, case.case_number)
        return [
            *clear_form_slots(),
            SlotSet(CASE_NUMBER_SLOT, case.case_number),
            SlotSet(VERIFIED_NUMBER_SLOT, case.case_number),
        ]


def last_active_form(tracker: Tracker) -> str | None:
    """The form that was running most recently (it may already be deactivated)."""
    form = last_event(tracker, "active_loop", lambda event: bool(event.get("name")))
    return form["name"] if form else None


class ActionCancelCaseForm(Action):
    def name(self) -> str:
        return "action_cancel_case_form"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        cancelled_lookup = last_active_form(tracker) == "case_lookup_form"
        dispatcher.utter_message(
            response="utter_case_lookup_cancelled"
            if cancelled_lookup
            else "utter_case_not_submitted"
        )
        return [*clear_form_slots(), *[SlotSet(slot, None) for slot in LOOKUP_SLOTS]]


class ActionReportCaseStatus(Action):
    """Answers the lookup form's outcome. Nothing about a case is said unless the case store
    has this conversation recorded as verified for it: the slots only say which case to report.

    No outcome and no number means the form ended at once because the asker (a trusted identity)
    opened cases here before: those are listed.
    """

    def name(self) -> str:
        return "action_report_case_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        outcome = tracker.get_slot("case_lookup_outcome")
        number = tracker.get_slot(VERIFIED_NUMBER_SLOT)
        reset = [SlotSet(slot, None) for slot in (*LOOKUP_SLOTS, MISSES_SLOT)]
        store = provider.get_case_store()
        try:
            if outcome == "verified" and number:
                self._report(dispatcher, store.verified_case(number, tracker.sender_id))
                return reset
            if outcome is None and not tracker.get_slot(CASE_NUMBER_SLOT):
                self._report_own_cases(dispatcher, tracker)
                return [*reset, SlotSet(CASE_NUMBER_SLOT, None)]
        except AccessDenied:
            logger.warning("case report refused: conversation not verified for the case")
            dispatcher.utter_message(response="utter_case_lookup_verify_again")
            return [*reset, SlotSet(CASE_NUMBER_SLOT, None), SlotSet(VERIFIED_NUMBER_SLOT, None)]
        except StoreUnavailable as error:
            logger.warning("case lookup failed: %s", error.__class__.__name__)
            outcome = "unavailable"
        if outcome == "locked":
            dispatcher.utter_message(response="utter_case_lookup_locked")
        else:
            dispatcher.utter_message(response="utter_case_lookup_unavailable")
        return [*reset, SlotSet(CASE_NUMBER_SLOT, None)]

    @staticmethod
    def _report(dispatcher: CollectingDispatcher, case: Case) -> None:
        labels = load_case_labels()
        values = {
            "case_number": case.case_number,
            "status": labels.status(case.status),
            "updated_at": local_time(case.updated_at),
            "next_step": labels.next_step(case.status),
            "phone": case.masked_phone,
        }
        note = case.latest_public_note
        if note:
            dispatcher.utter_message(response="utter_case_status_with_note", note=note, **values)
        else:
            dispatcher.utter_message(response="utter_case_status", **values)

    @staticmethod
    def _report_own_cases(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        labels = load_case_labels()
        # Empty unless the conversation id is a trusted identity (never for REST).
        cases = provider.get_case_store().cases_opened_by(tracker.sender_id)
        if not cases:
            dispatcher.utter_message(response="utter_case_lookup_verify_again")
            return
        lines = [
            labels.my_case_line.format(
                case_number=case.case_number,
                status=labels.status(case.status),
                category=labels.category(case.category),
                updated_at=local_time(case.updated_at),
            )
            for case in cases[:5]
        ]
        dispatcher.utter_message(response="utter_my_cases", case_lines="\n".join(lines))


class ActionAddCaseInfo(Action):
    """Adds what the user sends later (tracking number, serial, brand, amount) to an open case.

    Only for a case this conversation is recorded as verified for in the case store (it opened
    the case, passed the last-4 check, or is the case's trusted opener); anyone else is sent to
    the lookup first, so a case number alone, or a forged slot, never lets a stranger write.
    """

    def name(self) -> str:
        return "action_add_case_info"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        labels = load_case_labels()
        entities = latest_entities(tracker)
        mentioned = [e.get("value") for e in entities if e.get("entity") == "case_number"]
        number = normalize_case_number(mentioned[-1] if mentioned else None) or (
            normalize_case_number(tracker.get_slot(VERIFIED_NUMBER_SLOT))
        )
        details = [
            f"{labels.extra_fields[e['entity']]} {e.get('value')}"
            for e in entities
            if e.get("entity") in EXTRA_SLOTS
        ]
        if not details:
            if answered_in_context(dispatcher, tracker):
                return []
            dispatcher.utter_message(response="utter_case_info_what")
            return []
        if number is None:
            dispatcher.utter_message(response="utter_case_info_need_number")
            return []
        note = mask_numbers_in_text("；".join(details))
        try:
            provider.get_case_store().add_user_note(number, note, tracker.sender_id)
        except AccessDenied:
            dispatcher.utter_message(response="utter_case_info_verify_first")
            return [SlotSet(CASE_NUMBER_SLOT, number)]
        except CaseNotOpen:
            dispatcher.utter_message(response="utter_case_info_case_closed", case_number=number)
            return []
        except CaseStoreError as error:
            logger.warning("case note not written: %s", error.__class__.__name__)
            dispatcher.utter_message(response="utter_case_store_unavailable")
            return []
        dispatcher.utter_message(response="utter_case_info_added", case_number=number, details=note)
        return [SlotSet(slot, None) for slot in EXTRA_SLOTS]

"""Validation of the case forms (open_case_form, case_lookup_form).

`CaseFormValidation` is the shared base: an invalid answer is re-asked with an example, and
after two misses in a row the user is told what is expected and offered a way out (skip an
optional item, hand over to a human, or cancel), instead of looping forever.
Messages whose intent is a digression (cancel, human, scam, …) are left unextracted, so the form
rejects and the dialogue rules take over.
"""

from __future__ import annotations

import logging
import math
import re
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.case_form_bends import category_named_in_request, situation_interrupted_by_case_form
from actions.summary_corrections import corrections_at_confirmation
from actions.tone import angry_emoji, no_words
from actions.tracker_reading import (
    CASE_NUMBER_SLOT,
    EXTRA_SLOTS,
    MISSES_SLOT,
    REQUESTED_SLOT,
    SITUATION_SLOT,
    client_address_of,
    latest_entities,
    latest_intent,
    latest_text,
)
from pos_assistant.cases import provider
from pos_assistant.cases.errors import LookupLocked, StoreUnavailable, VerificationFailed
from pos_assistant.cases.identifiers import (
    find_phone,
    mask_numbers_in_text,
    normalize_case_number,
    normalize_last4,
    normalize_phone,
)
from pos_assistant.cases.labels import load_case_labels
from pos_assistant.identity import trusted_identity
from pos_assistant.knowledge.prefill import WholeReply, whole_reply
from pos_assistant.situations import situations

logger = logging.getLogger(__name__)

MAX_MISSES_BEFORE_HELP = 2
# "CS" and what follows it that could be meant as its digits (bounded: linear on any text).
_CASE_NUMBER_ATTEMPT = re.compile(r"(?<![A-Za-z])[Cc][Ss][\d\s\-]{1,24}")
NO_WORDS_RESPONSE = "utter_case_form_no_words"
NO_WORDS_ANGRY_RESPONSE = "utter_case_form_no_words_angry"
DIGRESSION_INTENTS = frozenset({"cancel", "request_human", "check_case_status", "open_case"})


def is_digression(intent: str | None) -> bool:
    """Cancel, a person, another case flow, or a scam signal: the dialogue rules take over."""
    return intent in DIGRESSION_INTENTS or intent == situations().scam.intent


def is_skip(text: str) -> bool:
    """An optional question left out: 跳过, or a no ("没有" = nothing to add)."""
    return whole_reply(text) in {WholeReply.SKIP, WholeReply.NO}


class CaseFormValidation(FormValidationAction, ABC):
    """Counts invalid answers per slot and offers a way out after two misses."""

    # The way out after two misses names what 取消 stops (登记 or 查询).
    offer_human_response = "utter_case_form_offer_human"
    # The intent that starts this form: asked again inside it, the form goes on.
    own_intent = ""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        if latest_intent(tracker) != self.own_intent or not tracker.get_slot(REQUESTED_SLOT):
            return events
        if any(e.get("event") == "slot" and e.get("name") != REQUESTED_SLOT for e in events):
            return events
        # "帮我登记" while registering fills nothing, and Rasa would reject the form and fall back
        # ("没太明白"). A slot event (the miss counter, unchanged) keeps the form going: it asks
        # the same question again.
        return [*events, SlotSet(MISSES_SLOT, tracker.get_slot(MISSES_SLOT))]

    @abstractmethod
    def name(self) -> str:
        """Abstract, so that the action server does not register this base class itself."""

    def miss(
        self,
        slot: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        *,
        example_response: str,
        skippable: bool,
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        if no_words(text):
            # "😭😭" is a feeling, not a wrong answer: a word for it, the question again (the
            # form asks it), and no miss counted towards the way out; anger is offered a person.
            angry = angry_emoji(text)
            dispatcher.utter_message(
                response=NO_WORDS_ANGRY_RESPONSE if angry else NO_WORDS_RESPONSE
            )
            return {slot: None}
        misses = dict(tracker.get_slot(MISSES_SLOT) or {})
        misses[slot] = int(misses.get(slot, 0)) + 1
        if misses[slot] >= MAX_MISSES_BEFORE_HELP:
            dispatcher.utter_message(response=example_response)
            dispatcher.utter_message(
                response="utter_case_form_offer_skip" if skippable else self.offer_human_response
            )
        else:
            dispatcher.utter_message(response=example_response)
        return {slot: None, MISSES_SLOT: misses}

    @staticmethod
    def accepted(slot: str, value: Any, tracker: Tracker) -> dict[str, Any]:
        misses = dict(tracker.get_slot(MISSES_SLOT) or {})
        misses.pop(slot, None)
        return {slot: value, MISSES_SLOT: misses or None}


class ValidateOpenCaseForm(CaseFormValidation):
    own_intent = "open_case"

    def name(self) -> str:
        return "validate_open_case_form"

    async def extract_case_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("case_category"):
            return {}
        named = category_named_in_request(tracker)
        if named and tracker.get_slot(REQUESTED_SLOT) is None:
            return {"case_category": named}  # "帮我登记一下，未激活退押金的"
        situation = tracker.get_slot(SITUATION_SLOT) or situation_interrupted_by_case_form(tracker)
        if situation and tracker.get_slot(REQUESTED_SLOT) != "case_category":
            return {"case_category": situation}  # the advice the user just got tells us
        if tracker.get_slot(REQUESTED_SLOT) != "case_category":
            return {}
        if is_digression(latest_intent(tracker)):
            return {}
        text = latest_text(tracker)
        if is_skip(text) or latest_intent(tracker) == "deny":
            return {"case_category": "other"}
        category = load_case_labels().category_from_text(text)
        if category is None:
            return self.miss(
                "case_category",
                dispatcher,
                tracker,
                example_response="utter_case_category_invalid",
                skippable=True,
            )
        return {"case_category": category}

    def validate_case_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        if value in load_case_labels().categories:
            return self.accepted("case_category", value, tracker)
        return {"case_category": None}

    def validate_phone_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        phone = normalize_phone(value) or find_phone(str(value or ""))
        if phone is None:
            return self.miss(
                "phone_number",
                dispatcher,
                tracker,
                example_response="utter_case_phone_invalid",
                skippable=False,
            )
        return self.accepted("phone_number", phone, tracker)

    def validate_case_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < 4 or is_skip(text):
            return self.miss(
                "case_description",
                dispatcher,
                tracker,
                example_response="utter_case_description_too_short",
                skippable=False,
            )
        # Stored and shown to staff: card, ID and phone numbers typed in the story stay masked.
        return self.accepted("case_description", mask_numbers_in_text(text)[:2000], tracker)

    def validate_case_extra_info(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        # "没有" / the 跳过 quick reply (payload /deny) both mean nothing to add.
        if is_skip(str(value or "")) or latest_intent(tracker) == "deny":
            return self.accepted("case_extra_info", "skipped", tracker)
        found = {
            e["entity"]: e.get("value")
            for e in latest_entities(tracker)
            if e.get("entity") in EXTRA_SLOTS
        }
        if not found:
            return self.miss(
                "case_extra_info",
                dispatcher,
                tracker,
                example_response="utter_case_extra_info_invalid",
                skippable=True,
            )
        return {**self.accepted("case_extra_info", "given", tracker), **found}

    def validate_case_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        corrected = corrections_at_confirmation(dispatcher, tracker)
        if corrected:
            return corrected  # the summary is shown again with the corrected field
        if isinstance(value, bool):
            return self.accepted("case_confirmed", value, tracker)
        answer = whole_reply(str(value or ""))
        if answer is WholeReply.YES:
            return self.accepted("case_confirmed", True, tracker)
        if answer is WholeReply.NO:
            return self.accepted("case_confirmed", False, tracker)
        return self.miss(
            "case_confirmed",
            dispatcher,
            tracker,
            example_response="utter_case_confirm_invalid",
            skippable=False,
        )


class ValidateCaseLookupForm(CaseFormValidation):
    """Case number, then (unless the asker opened the case) the last four phone digits.

    The outcome slot ends the form early: verified, locked, mine (list the asker's own cases)
    or unavailable. Unknown numbers go through the same questions and answers as real ones.
    """

    offer_human_response = "utter_case_lookup_offer_human"
    own_intent = "check_case_status"

    def name(self) -> str:
        return "validate_case_lookup_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        if tracker.get_slot("case_lookup_outcome"):
            return []
        starting = tracker.get_slot(REQUESTED_SLOT) is None
        if starting and not tracker.get_slot(CASE_NUMBER_SLOT) and self._asker_has_cases(tracker):
            return []  # the report lists the asker's own cases: no number, no check needed
        return [CASE_NUMBER_SLOT, "case_lookup_last4"]

    async def extract_case_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """ "查一下我的工单 CS123": a number typed in the request itself that the entity extractor
        did not take (too short, odd spacing) goes to validation, which names the format,
        instead of a plain "请发一下工单号" that ignores what was typed."""
        if tracker.get_slot(REQUESTED_SLOT) is not None or tracker.get_slot(CASE_NUMBER_SLOT):
            return {}
        attempt = _CASE_NUMBER_ATTEMPT.search(latest_text(tracker) or "")
        return {CASE_NUMBER_SLOT: attempt.group(0).strip()} if attempt else {}

    @staticmethod
    def _asker_has_cases(tracker: Tracker) -> bool:
        try:
            # Only a trusted identity (widget session, WeChat openid) has cases of its own here.
            return bool(provider.get_case_store().cases_opened_by(tracker.sender_id))
        except StoreUnavailable:
            logger.warning("case store unavailable while listing own cases")
            return trusted_identity(tracker.sender_id) is not None  # the report apologises

    def validate_case_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        number = normalize_case_number(value)
        if number is None:
            return self.miss(
                "case_number",
                dispatcher,
                tracker,
                example_response="utter_case_number_invalid",
                skippable=False,
            )
        store = provider.get_case_store()
        result = self.accepted("case_number", number, tracker)
        try:
            # The opener's own trusted identity skips the question; the store records it.
            if store.recognise_opener(number, tracker.sender_id):
                return {**result, "case_lookup_outcome": "verified", "case_verified_number": number}
            store.ensure_not_locked(number, tracker.sender_id, client_address_of(tracker))
        except LookupLocked as locked:
            return {**result, "case_lookup_outcome": "locked", **_lock_slots(locked)}
        except StoreUnavailable:
            logger.warning("case store unavailable during lookup")
            return {**result, "case_lookup_outcome": "unavailable"}
        return result

    def validate_case_lookup_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        text = str(value or "")
        phone = find_phone(text)
        digits = phone[-4:] if phone else normalize_last4(text)
        if digits is None:
            return self.miss(
                "case_lookup_last4",
                dispatcher,
                tracker,
                example_response="utter_case_lookup_last4_invalid",
                skippable=False,
            )
        number = tracker.get_slot(CASE_NUMBER_SLOT)
        try:
            # Records "this conversation is verified for the case" in the store on success:
            # the report reads it there, never from the slots set here.
            case = provider.get_case_store().verify_last4(
                number, digits, tracker.sender_id, client_address_of(tracker)
            )
        except VerificationFailed:
            dispatcher.utter_message(response="utter_case_lookup_mismatch")
            return {"case_lookup_last4": None}
        except LookupLocked as locked:
            return {
                "case_lookup_last4": "****",
                "case_lookup_outcome": "locked",
                **_lock_slots(locked),
            }
        except StoreUnavailable:
            logger.warning("case store unavailable during verification")
            return {"case_lookup_last4": None, "case_lookup_outcome": "unavailable"}
        return {
            **self.accepted("case_lookup_last4", "****", tracker),
            "case_lookup_outcome": "verified",
            "case_verified_number": case.case_number,
        }


def _lock_slots(locked: LookupLocked) -> dict[str, Any]:
    remaining = (locked.locked_until - datetime.now(timezone.utc)).total_seconds()
    return {"case_lookup_wait_minutes": str(max(1, math.ceil(remaining / 60)))}

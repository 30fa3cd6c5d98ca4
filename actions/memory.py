"""The facts a user gave, remembered for the whole conversation (and carried into new sessions).

People say what matters once, often in the first message, and expect it to be known later:
"交了99块押金", "验证码已经告诉他了". The advice forms' own answers are cleared whenever a new
situation starts; these `known_*` slots are not, so the forms take their answers from them and
never ask again. They are filled by action_validate_slot_mappings after every user message.

- known_deposit_paid / known_deposit_amount: the latest thing the user said about a deposit
  (a later statement replaces an earlier one, which is how "不对，我没交押金" corrects it).
- known_victim: True once the user said, in a scam story, that a code, card number or money was
  given. It is never cleared by anything but the user's explicit correction ("不对，我没给验证码"),
  so every later answer keeps 110 and freezing the card first.
- known_police_reported / known_card_frozen: the first steps the user says they have taken ("已经
  报警了", "卡也冻结了"), or not ("还没报警"): the victim reminder then names only the ones left.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.tracker_reading import (
    REQUESTED_SLOT,
    SITUATION_SLOT,
    VICTIM_QUESTION_SLOT,
    as_bool,
    events_of,
    latest_entities,
    latest_intent,
    latest_text,
    scam_guard_fired,
)
from pos_assistant.nlu.already_given import AlreadyGiven, read_already_given
from pos_assistant.nlu.normalization import TextNormalization
from pos_assistant.situations import situations

MEMORY_FILE = Path(__file__).resolve().parent.parent / "data" / "memory.yml"
NORMALIZATION_FILE = MEMORY_FILE.parent / "normalization.yml"
DEPOSIT_SLOT = "known_deposit_paid"
AMOUNT_SLOT = "known_deposit_amount"
VICTIM_SLOT = "known_victim"
# "不是网上买的，业务员上门办的": only "not online" is certain (online says nothing of the 7 days).
BOUGHT_ONLINE_SLOT = "known_bought_online"
POLICE_SLOT = "known_police_reported"
CARD_FROZEN_SLOT = "known_card_frozen"
# The victim steps a user can say they took, by their key in data/memory.yml's victim_steps_done.
STEP_SLOTS = {"police": POLICE_SLOT, "card_frozen": CARD_FROZEN_SLOT}
MEMORY_SLOTS = (
    DEPOSIT_SLOT,
    AMOUNT_SLOT,
    VICTIM_SLOT,
    BOUGHT_ONLINE_SLOT,
    POLICE_SLOT,
    CARD_FROZEN_SLOT,
)
# Which remembered fact answers which advice question.
QUESTION_MEMORY = {
    "deposit_paid": DEPOSIT_SLOT,
    "paid_deposit_or_fee": DEPOSIT_SLOT,
    VICTIM_QUESTION_SLOT: VICTIM_SLOT,
    "bought_online_within_7_days": BOUGHT_ONLINE_SLOT,
}
_SPACES = re.compile(r"\s+")
_CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;、~～…]+")


@lru_cache(maxsize=1)
def _phrases() -> dict[str, Any]:
    return yaml.safe_load(MEMORY_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _normalization() -> TextNormalization:
    table = yaml.safe_load(NORMALIZATION_FILE.read_text(encoding="utf-8")) or {}
    return TextNormalization(table.get("replacements") or {})


def readable(text: str | None) -> str:
    """The text as the classifier read it: Simplified, Cantonese in Mandarin ("俾咗" → "给了")."""
    if not text or text.startswith("/"):
        return text or ""
    return _normalization().normalize(text).text


def _compact(text: str) -> str:
    return _SPACES.sub("", text).lower()


def _contains_any(text: str, phrases: list[str]) -> list[tuple[int, int]]:
    spans = []
    for phrase in phrases:
        phrase = phrase.lower()
        # English phrases keep their spaces, Chinese ones are matched without.
        haystack = text if " " in phrase else _compact(text)
        start = haystack.find(phrase)
        while start != -1:
            spans.append((start, start + len(phrase)))
            start = haystack.find(phrase, start + 1)
    return spans


def read_deposit(text: str) -> bool | None:
    """True/False when the message says a deposit was / was not paid, else None."""
    table = _phrases()["deposit_paid"]
    no = _contains_any(text.lower(), table["when_no"])
    if no:
        return False
    return True if _contains_any(text.lower(), table["when_yes"]) else None


def read_not_online(text: str) -> bool:
    """Whether the message says the POS was not bought online (a salesperson, a shop)."""
    return bool(_contains_any(text.lower(), _phrases()["bought_online"]["when_no"]))


def read_step_done(text: str, step: str) -> bool | None:
    """True/False when the message says the victim step `step` ("police", "card_frozen") was / was
    not taken by the user, else None. Clauses telling of someone else's claim are skipped."""
    table = _phrases()["victim_steps_done"]
    phrases = table[step]
    said = None
    for clause in _CLAUSE_BREAK.split(text.lower()):
        if not clause or _contains_any(clause, table["others_doing"]):
            continue
        if _contains_any(clause, phrases["when_no"]):
            return False  # "not yet" anywhere wins: safety first
        if _contains_any(clause, phrases["when_yes"]):
            said = True
    return said


def is_correction(text: str) -> bool:
    return bool(_contains_any(text.lower(), _phrases()["correction_markers"]))


def in_scam_story(tracker: Tracker) -> bool:
    """Whether the latest message belongs to a scam story ("我交了200" = money to a scammer)."""
    scam = situations().scam
    return (
        latest_intent(tracker) == scam.intent
        or scam_guard_fired(tracker)
        or tracker.active_loop_name == scam.form
        or tracker.get_slot(SITUATION_SLOT) == scam.code
    )


def remember_facts(tracker: Tracker) -> list[EventType]:
    """SlotSet events for what the latest user message adds to or corrects in the memory."""
    text = readable(latest_text(tracker))
    events: list[EventType] = []
    victim = as_bool(tracker.get_slot(VICTIM_SLOT))
    if text and not text.startswith("/"):
        deposit = read_deposit(text)
        if deposit is not None and deposit != as_bool(tracker.get_slot(DEPOSIT_SLOT)):
            events.append(SlotSet(DEPOSIT_SLOT, deposit))
        if deposit is False and tracker.get_slot(AMOUNT_SLOT) is not None:
            events.append(SlotSet(AMOUNT_SLOT, None))
        if read_not_online(text) and as_bool(tracker.get_slot(BOUGHT_ONLINE_SLOT)) is not False:
            events.append(SlotSet(BOUGHT_ONLINE_SLOT, False))
        amount = next(
            (e.get("value") for e in latest_entities(tracker) if e.get("entity") == "amount"),
            None,
        )
        if deposit is True and amount:
            events.append(SlotSet(AMOUNT_SLOT, str(amount)))
        for step, slot in STEP_SLOTS.items():
            done = read_step_done(text, step)
            if done is not None and done != as_bool(tracker.get_slot(slot)):
                events.append(SlotSet(slot, done))
        reading = read_already_given(text)
        if victim is True:
            if is_correction(text) and reading is AlreadyGiven.NOT_GIVEN:
                events.append(SlotSet(VICTIM_SLOT, False))
        elif (
            reading is AlreadyGiven.GIVEN
            and in_scam_story(tracker)
            and (deposit is None or scam_guard_fired(tracker))
        ):
            # "交了200押金" in a scam conversation is a deposit, unless the message itself is a
            # scam ("退押金要先交手续费，我已经转了80给他").
            events.append(SlotSet(VICTIM_SLOT, True))
    if victim is not True and not events_set(events, VICTIM_SLOT) and answered_yes(tracker):
        events.append(SlotSet(VICTIM_SLOT, True))
    return events


def events_set(events: list[EventType], slot: str) -> bool:
    return any(event.get("name") == slot for event in events)


def answered_yes(tracker: Tracker) -> bool:
    """The scam form's "already given?" answered 是 (button or yes word) in this message."""
    return (
        tracker.active_loop_name == situations().scam.form
        and tracker.get_slot(REQUESTED_SLOT) == VICTIM_QUESTION_SLOT
        and as_bool(tracker.get_slot(VICTIM_QUESTION_SLOT)) is True
    )


def fact_for_question(tracker: Tracker, question_slot: str) -> bool | None:
    """The remembered answer to an advice question, or None when nothing is known."""
    memory_slot = QUESTION_MEMORY.get(question_slot)
    if memory_slot is None:
        return None
    value = as_bool(tracker.get_slot(memory_slot))
    if memory_slot == VICTIM_SLOT and value is not True:
        return None  # only a victim is certain; "not given" is asked each time a story starts
    return value


def is_victim(tracker: Tracker) -> bool:
    return as_bool(tracker.get_slot(VICTIM_SLOT)) is True


VICTIM_REMINDER_RESPONSE = "utter_victim_reminder"
# After the first reminder: the same two steps first, without the "您说过…" introduction again.
VICTIM_REMINDER_AGAIN_RESPONSE = "utter_victim_reminder_again"
# The steps the user has said they took, and the reminder that names only the rest.
STEPS_DONE_RESPONSES = {
    frozenset({"police"}): "utter_victim_reminder_police_done",
    frozenset({"card_frozen"}): "utter_victim_reminder_card_done",
    frozenset(STEP_SLOTS): "utter_victim_reminder_steps_done",
}


def slot_after(tracker: Tracker, events: Sequence[EventType], slot: str) -> Any:
    """The slot's value once this message's `events` (not yet in the tracker) are applied."""
    value = tracker.get_slot(slot)
    for event in events:
        if event.get("name") == slot:
            value = event.get("value")
    return value


def steps_taken(tracker: Tracker, events: Sequence[EventType] = ()) -> frozenset[str]:
    """The victim steps the user said they took, this message's `events` included."""
    return frozenset(
        step
        for step, slot in STEP_SLOTS.items()
        if as_bool(slot_after(tracker, events, slot)) is True
    )


def _sent_before(tracker: Tracker, responses: tuple[str, ...]) -> bool:
    return any(
        (event.get("metadata") or {}).get("utter_action") in responses
        for event in events_of(tracker, "bot")
    )


def victim_reminder_response(tracker: Tracker, events: Sequence[EventType] = ()) -> str | None:
    """The full reminder the first time, the short one after it; once the user says they called
    110 or froze the card, the one naming the steps left. None once every step is taken and
    that was said: the rest (uninstall, change passwords, keep records) is not repeated forever."""
    taken = steps_taken(tracker, events)
    if taken:
        response = STEPS_DONE_RESPONSES[taken]
        if taken == frozenset(STEP_SLOTS) and _sent_before(tracker, (response,)):
            return None
        return response
    reminded = _sent_before(tracker, (VICTIM_REMINDER_RESPONSE, VICTIM_REMINDER_AGAIN_RESPONSE))
    return VICTIM_REMINDER_AGAIN_RESPONSE if reminded else VICTIM_REMINDER_RESPONSE

"""What is said about every user message before anything else answers it.

Rasa calls `action_validate_slot_mappings` after every user message (ActionExtractSlots), also
while the conversation is paused for a person, and sends what it utters. It keeps every slot Rasa
extracted (it returns no SlotSet). It says:
- the privacy notice, when the user typed their own card/ID number, code or password;
- a "still waiting" reminder, when the conversation waits for a person and nobody has answered
  for a while (otherwise a handed-over user writes into silence);
- a word for the feeling, when an angry message still asks something (actions/tone.py);
- for someone who said they already gave a code or money, the victim steps (110, freeze the card)
  before whatever else answers (actions/memory.py remembers it; see `needs_victim_reminder`).
It also returns the remembered facts (`known_*` slots) the message adds or corrects.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.fact_corrections import situation_depending_on
from actions.handoff_return import answer_while_waiting
from actions.memory import (
    BOUGHT_ONLINE_SLOT,
    DEPOSIT_SLOT,
    VICTIM_SLOT,
    events_set,
    is_correction,
    is_victim,
    readable,
    remember_facts,
    slot_after,
    victim_reminder_response,
)
from actions.sensitive_data import NOTICE_RESPONSE, needs_privacy_notice
from actions.tone import ANGER_RESPONSE, needs_word_for_anger
from actions.tracker_reading import (
    as_bool,
    events_of,
    latest_intent,
    latest_text,
    scam_guard_fired,
)
from actions.two_questions import second_question_events
from pos_assistant.settings import get_settings
from pos_assistant.situations import situations

REMINDER_RESPONSE = "utter_handoff_still_waiting"


def needs_waiting_reminder(tracker: Tracker, now: float, interval_seconds: float) -> bool:
    """Whether a handed-over user has written into silence for at least `interval_seconds`.

    Silence is measured from the last thing anyone said to the user (the handoff message, an
    earlier reminder, or an agent's reply), so a user who keeps writing is reminded at most once
    per interval and an agent who is answering is never talked over.
    """
    if not tracker.is_paused():
        return False
    last_reply = max(
        (float(event.get("timestamp") or 0) for event in events_of(tracker, "bot")),
        default=0.0,
    )
    return now - last_reply >= interval_seconds


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
        waiting = needs_waiting_reminder(tracker, now=self.clock(), interval_seconds=interval)
        if waiting:
            dispatcher.utter_message(response=REMINDER_RESPONSE)  # it has 110 and the freeze
        in_danger = scam_guard_fired(tracker) or is_victim(tracker)
        answer_while_waiting(dispatcher, tracker, reminded=waiting, in_danger=in_danger)
        if needs_word_for_anger(tracker):
            dispatcher.utter_message(response=ANGER_RESPONSE)
        events = remember_facts(tracker)
        for response in corrected_fact_responses(tracker, events):
            dispatcher.utter_message(response=response)
        if not waiting and needs_victim_reminder(tracker, events):
            reminder = victim_reminder_response(tracker, events)
            if reminder:
                dispatcher.utter_message(response=reminder)
        if not tracker.is_paused():
            events += second_question_events(tracker)
        return events


def corrected_fact_responses(tracker: Tracker, events: list[EventType]) -> list[str]:
    """ "已记下" for a remembered fact the user just corrected ("不对，我没交押金"), and how to see
    the steps adjusted to it, unless they follow anyway (a bare "不对…" right after them)."""
    text = readable(latest_text(tracker))
    if not is_correction(text):
        return []
    noted = None
    for event in events:
        if event.get("name") == DEPOSIT_SLOT and event.get("value") is not None:
            noted = "utter_noted_deposit" if event["value"] else "utter_noted_no_deposit"
        elif event.get("name") == BOUGHT_ONLINE_SLOT and event.get("value") is False:
            noted = "utter_noted_not_online"
        elif event.get("name") == VICTIM_SLOT and event.get("value") is False:
            return ["utter_noted_not_victim"]
        if noted:
            break
    if noted is None:
        return []
    facts = {str(event.get("name")) for event in events}
    steps_follow = latest_intent(tracker) in YES_NO_INTENTS and situation_depending_on(
        tracker, facts
    )
    return [noted] if steps_follow else [noted, SEE_ADJUSTED_STEPS_RESPONSE]


SEE_ADJUSTED_STEPS_RESPONSE = "utter_noted_see_adjusted_steps"
# Read as a yes/no outside a form: action_acknowledge_yes_no answers them (with the steps again).
YES_NO_INTENTS = {"affirm", "deny"}


# Answers that need no reminder (a goodbye, a thanks); the scam situation's have 110 and the freeze.
_NO_VICTIM_REMINDER_INTENTS = {"thank", "goodbye", "greet"}


def needs_victim_reminder(tracker: Tracker, events: list[EventType]) -> bool:
    """A remembered victim gets 110 and the freeze first, unless this answer has them anyway."""
    if as_bool(slot_after(tracker, events, VICTIM_SLOT)) is not True or tracker.is_paused():
        return False
    learnt_now = events_set(events, VICTIM_SLOT)
    if learnt_now and scam_guard_fired(tracker):
        return False  # the safety notice on this very message has the steps
    scam = situations().scam
    intent = latest_intent(tracker)
    # The scam advice (the scam intent, or its form asking) has the steps itself.
    quiet = intent in _NO_VICTIM_REMINDER_INTENTS or intent == scam.intent
    return not quiet and tracker.active_loop_name != scam.form

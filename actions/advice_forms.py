"""Validation for the situation (advice) forms: pre-fill answers the first message already gives.

Each situation form asks one or two yes/no questions (slots filled from affirm/deny). Before
asking, these actions read the user's words ("已经把验证码给他了") with the phrases from the
knowledge files, so the question is skipped when the answer is already known.

A scam signal inside another situation's form is deliberately left unextracted: the form then
rejects, and the rules in data/rules/advice.yml show the scam warning first and switch to the
scam situation's form. One validation action per situation in data/situations.yml, made from the
registry when this module is imported.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.memory import VICTIM_SLOT, fact_for_question, readable
from actions.tracker_reading import (
    REQUESTED_SLOT,
    VICTIM_QUESTION_SLOT,
    as_bool,
    asks_for_something_else,
    latest_text,
    scam_guard_fired,
)
from pos_assistant.knowledge import KnowledgeError, detect_answer, get_knowledge_base
from pos_assistant.knowledge.models import Question
from pos_assistant.knowledge.prefill import detect_direct_reply
from pos_assistant.nlu.already_given import read_already_given
from pos_assistant.situations import situations

logger = logging.getLogger(__name__)


class ValidateSituationForm(FormValidationAction, ABC):
    @property
    @abstractmethod
    def situation(self) -> str:
        """The situation code; subclasses set it as a class attribute."""

    def name(self) -> str:
        entry = situations().get(self.situation)
        return entry.validate_action if entry else f"validate_{self.situation}_form"

    def _questions(self) -> tuple[Question, ...]:
        try:
            return get_knowledge_base().situations[self.situation].questions
        except KnowledgeError:
            logger.exception("knowledge base failed to load; asking every question")
            return ()

    def _scam_signal_elsewhere(self, tracker: Tracker) -> bool:
        # Only SafetyGuard's keyword match, not the classifier's guess: a typed answer such as
        # "没有 就是口头说的" can be misread as a scam report and must still count as an answer.
        return scam_guard_fired(tracker) and self.situation != situations().scam.code

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if self._scam_signal_elsewhere(tracker):
            return []
        text = readable(latest_text(tracker))
        events: list[EventType] = []
        for question in self._questions():
            if tracker.get_slot(question.slot) is not None:
                continue
            # What the user said in any earlier turn is never asked again.
            answer = fact_for_question(tracker, question.slot)
            if answer is None:
                answer = read_answer(question, text)
            if (
                answer is None
                and question.slot == tracker.get_slot(REQUESTED_SLOT)
                and not asks_for_something_else(tracker)
            ):
                answer = detect_direct_reply(text, question)
            if answer is not None:
                events.append(SlotSet(question.slot, answer))
        return events

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        questions = {question.slot: question for question in self._questions()}
        text = readable(latest_text(tracker))
        events: list[EventType] = []
        for slot, value in tracker.slots_to_validate().items():
            if slot not in questions:
                continue
            # The words win over a yes/no classification: "对，让我报验证码，我还没报" is
            # classified affirm, yet says nothing was given.
            worded = read_answer(questions[slot], text) if questions[slot].reader else None
            if slot == VICTIM_QUESTION_SLOT and as_bool(tracker.get_slot(VICTIM_SLOT)):
                worded = True  # a victim stays one ("挂了，现在打110" reads as "nothing given")
            events.append(SlotSet(slot, as_bool(value) if worded is None else worded))
        return events


def read_answer(question: Question, text: str | None) -> bool | None:
    """The answer the words give: the question's dedicated reader, else its phrase lists."""
    if question.reader == "already_given":
        return read_already_given(text).slot_value
    return detect_answer(question, text)


def _class_name(code: str) -> str:
    return "Validate" + "".join(part.title() for part in code.split("_")) + "Form"


# code → its form validation class, one per registered situation.
VALIDATE_FORMS: dict[str, type[ValidateSituationForm]] = {
    entry.code: type(ValidateSituationForm)(
        _class_name(entry.code),
        (ValidateSituationForm,),
        {"situation": entry.code, "__module__": __name__},
    )
    for entry in situations().entries
}


def situation_form(code: str) -> ValidateSituationForm:
    """The form validation action of one registered situation."""
    return VALIDATE_FORMS[code]()

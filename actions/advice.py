"""Advice actions: answer the user's situation (after its follow-up form) and the FAQ.

The texts come from data/knowledge/*.yml through pos_assistant.knowledge; the actions only choose
and send them, and set the `situation` slot so that a case opened afterwards gets its category.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.case_form_bends import case_instead_of_advice
from actions.memory import fact_for_question
from actions.two_questions import announce_two_questions, answer_second_question
from pos_assistant.knowledge import (
    KnowledgeError,
    get_knowledge_base,
    render_details,
    render_faq,
    render_legal,
    render_situation,
)
from pos_assistant.knowledge.models import Answers, CommonTexts, Situation
from pos_assistant.knowledge.renderer import RenderedMessage

logger = logging.getLogger(__name__)

SITUATION_SLOT = "situation"
SCAM_WARNING_RESPONSE = "utter_scam_warning"
UNAVAILABLE_RESPONSE = "utter_advice_unavailable"
NO_SITUATION_RESPONSE = "utter_advice_no_situation"
SENT_BEFORE_RESPONSE = "utter_advice_sent_before"
# The full answers already sent in this conversation ("situation:slot=answer,…").
ADVISED_SLOT = "advised_answers"


def answer_key(situation: str, answers: dict[str, bool | None]) -> str:
    """One full answer: the situation and the answers that chose its steps."""
    return situation + ":" + ",".join(f"{slot}={answers[slot]}" for slot in sorted(answers))


def as_answer(value: Any) -> bool | None:
    """A bool slot's value as True/False/None (tolerates "true"/"false" strings)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return None


def current_answers(tracker: Tracker, situation: Situation) -> dict[str, bool | None]:
    """The answers to the situation's questions; what the user said (and corrected) since wins."""
    answers = {slot: as_answer(tracker.get_slot(slot)) for slot in situation.question_slots}
    for slot in situation.question_slots:
        remembered = fact_for_question(tracker, slot)
        if remembered is not None:
            answers[slot] = remembered
    return answers


def scam_warning_in_this_reply(tracker: Tracker) -> bool:
    """Whether utter_scam_warning (which carries the anti-fraud core) ran since the user spoke."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == SCAM_WARNING_RESPONSE:
            return True
    return False


def send(dispatcher: CollectingDispatcher, messages: list[RenderedMessage]) -> None:
    for message in messages:
        buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        dispatcher.utter_message(text=message.text, buttons=buttons or None)


class AdviseSituationAction(Action, ABC):
    """Sends the steps for one situation, chosen by the answers its form collected."""

    @property
    @abstractmethod
    def situation(self) -> str:
        """The situation code; subclasses set it as a class attribute."""

    def name(self) -> str:
        return f"action_advise_{self.situation}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await self.advise(dispatcher, tracker)
        return [*events, *answer_second_question(dispatcher, tracker, events)]

    async def advise(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        try:
            knowledge = get_knowledge_base()
        except KnowledgeError:
            logger.exception("knowledge base failed to load")
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
            return [SlotSet(SITUATION_SLOT, self.situation)]
        situation = knowledge.situations[self.situation]
        answers = current_answers(tracker, situation)
        key = answer_key(self.situation, answers)
        advised = list(tracker.get_slot(ADVISED_SLOT) or [])
        events: list[EventType] = [SlotSet(SITUATION_SLOT, self.situation)]
        victim_steps = answers.get("secret_already_given") is True  # short, and never skipped
        if key in advised:
            # The same article twice is a wall of text: answer the question in it ("签收了怎么寄
            # 回去", a victim's "卡冻结了，然后呢"), else name the article and offer it again. A
            # victim with no such question gets the steps again: they are short and never skipped.
            from actions.follow_ups import answer_follow_up  # follow_ups builds on this module

            if answer_follow_up(dispatcher, tracker):
                return events
            if not victim_steps:
                dispatcher.utter_message(response=SENT_BEFORE_RESPONSE, title=situation.title)
                return events
        core = not scam_warning_in_this_reply(tracker)
        send(dispatcher, render_situation(situation, answers, knowledge.common, include_core=core))
        return [*events, SlotSet(ADVISED_SLOT, [*advised, key])]


class ActionAdviseUnorderedDevice(AdviseSituationAction):
    situation = "unordered_device"


class ActionAdviseGiftNotMailed(AdviseSituationAction):
    situation = "gift_not_mailed"


class ActionAdviseRefuseDelivery(AdviseSituationAction):
    situation = "refuse_delivery"


class ActionAdviseNoActivationRefund(AdviseSituationAction):
    situation = "no_activation_refund"


class ActionAdviseSuspiciousCall(AdviseSituationAction):
    situation = "suspicious_call"


class MoreAboutSituationAction(Action, ABC):
    """Answers a "详细说明" / "法律依据" quick reply for the situation advised last."""

    @abstractmethod
    def render(
        self, situation: Situation, answers: Answers, common: CommonTexts
    ) -> list[RenderedMessage]:
        """The messages for this situation and the answers given to its questions."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        advised = advised_situation(dispatcher, tracker)
        if advised is not None:
            send(dispatcher, self.render(*advised))
        return []


def advised_situation(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    no_situation_response: str = NO_SITUATION_RESPONSE,
) -> tuple[Situation, Answers, CommonTexts] | None:
    """The situation advised last, its answers and the common texts; None once the user was told
    why there is nothing to show (knowledge unavailable, or nothing advised yet)."""
    try:
        knowledge = get_knowledge_base()
    except KnowledgeError:
        logger.exception("knowledge base failed to load")
        dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
        return None
    situation = knowledge.situations.get(tracker.get_slot(SITUATION_SLOT) or "")
    if situation is None:
        dispatcher.utter_message(response=no_situation_response)
        return None
    return situation, current_answers(tracker, situation), knowledge.common


class ActionAdviceDetails(MoreAboutSituationAction):
    def name(self) -> str:
        return "action_advice_details"

    def render(
        self, situation: Situation, answers: Answers, common: CommonTexts
    ) -> list[RenderedMessage]:
        return render_details(situation, answers, common)


class ActionAdviceLegal(MoreAboutSituationAction):
    def name(self) -> str:
        return "action_advice_legal"

    def render(
        self, situation: Situation, answers: Answers, common: CommonTexts
    ) -> list[RenderedMessage]:
        return render_legal(situation, answers, common)


class ActionAnswerFaq(Action):
    """Answers ask_fees / ask_apply / ask_activation from data/knowledge/faq.yml."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        try:
            knowledge = get_knowledge_base()
        except KnowledgeError:
            logger.exception("knowledge base failed to load")
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
            return []
        answer = knowledge.faq.get(intent or "")
        if answer is None:
            dispatcher.utter_message(response="utter_default")
            return []
        send(dispatcher, render_faq(answer, knowledge.common))
        return answer_second_question(dispatcher, tracker)


# The intents that start a situation's questions (data/rules/advice.yml).
STARTING_INTENTS = {
    "report_unordered_device": "unordered_device",
    "report_gift_not_mailed": "gift_not_mailed",
    "ask_refuse_delivery": "refuse_delivery",
    "report_no_activation_refund": "no_activation_refund",
    "report_suspicious_call": "suspicious_call",
}


class ActionResetAdviceAnswers(Action):
    """Clears earlier follow-up answers so a newly reported situation is asked afresh.

    The same situation told again keeps its answers: what was said is not asked twice.
    """

    def name(self) -> str:
        return "action_reset_advice_answers"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            knowledge = get_knowledge_base()
        except KnowledgeError:
            logger.exception("knowledge base failed to load")
            return []
        announce_two_questions(dispatcher, tracker)  # after a scam warning, before the questions
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        starting = STARTING_INTENTS.get(intent)
        instead = case_instead_of_advice(tracker, starting)
        if instead:
            return instead  # a case was asked for: no advice questions
        keep: set[str] = set()
        if starting is not None and starting == tracker.get_slot(SITUATION_SLOT):
            keep = set(knowledge.situations[starting].question_slots)
        return [
            SlotSet(slot, None)
            for slot in knowledge.question_slots()
            if slot not in keep and tracker.get_slot(slot) is not None
        ]

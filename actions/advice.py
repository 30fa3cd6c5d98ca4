"""Advice actions: answer the user's situation (after its follow-up form) and the FAQ.

One advise action per situation in data/situations.yml, made from the registry when this module
is imported (the action server registers classes, so they must exist before it scans them).
The texts come from data/knowledge/*.yml; the actions choose and send them, and set the
`situation` slot so that a case opened afterwards gets its category.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.case_form_bends import case_instead_of_advice
from actions.knowledge_replies import (
    UNAVAILABLE_RESPONSE,
    MoreAboutSituationAction,
    answer_follow_up,
    answer_key,
    current_answers,
    scam_warning_in_this_reply,
    send,
)
from actions.memory import readable, victim_reminder_response
from actions.tracker_reading import (
    ADVISED_SLOT,
    SITUATION_SLOT,
    VICTIM_QUESTION_SLOT,
    events_of,
    latest_intent,
    latest_text,
)
from actions.two_questions import (
    INTRO_RESPONSE,
    SECOND_QUESTION_SLOT,
    announce_two_questions,
    answer_second_question,
    faq_asked_first,
    load_table,
)
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
from pos_assistant.situations import situations

logger = logging.getLogger(__name__)

SENT_BEFORE_RESPONSE = "utter_advice_sent_before"


class AdviseSituationAction(Action, ABC):
    """Sends the steps for one situation, chosen by the answers its form collected."""

    @property
    @abstractmethod
    def situation(self) -> str:
        """The situation code; each class made from the registry sets it as a class attribute."""

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
        victim_steps = answers.get(VICTIM_QUESTION_SLOT) is True  # short, and never skipped
        if key in advised:
            # The same article twice is a wall of text: answer the question in it ("签收了怎么寄
            # 回去", a victim's "卡冻结了，然后呢"), else name the article and offer it again. A
            # victim with no such question gets the steps again: they are short and never skipped;
            # with one, 110 and the card freeze still come first.
            answer = CollectingDispatcher()
            if answer_follow_up(answer, tracker):
                reminder = victim_reminder_response(tracker) if victim_steps else None
                if reminder:
                    dispatcher.utter_message(response=reminder)
                dispatcher.messages.extend(answer.messages)
                return events
            if not victim_steps:
                dispatcher.utter_message(response=SENT_BEFORE_RESPONSE, title=situation.title)
                return events
        core = not scam_warning_in_this_reply(tracker)
        rendered = render_situation(situation, answers, knowledge.common, include_core=core)
        if key not in advised:
            events.append(SlotSet(ADVISED_SLOT, [*advised, key]))
        if victim_steps and steps_already_shown(tracker, rendered):
            # "我已经把验证码告诉他了" right after the same steps (they hold 110 for everyone):
            # the reminder that names what to do first, not the same wall of text again.
            reminder = victim_reminder_response(tracker)
            if reminder:
                dispatcher.utter_message(response=reminder)
            else:
                dispatcher.utter_message(response=SENT_BEFORE_RESPONSE, title=situation.title)
            return events
        send(dispatcher, rendered)
        return events


def steps_already_shown(tracker: Tracker, rendered: list[RenderedMessage]) -> bool:
    """Whether the steps bubble of `rendered` was sent before in this conversation."""
    steps = rendered[0].text if rendered else None
    return steps is not None and any(
        event.get("text") == steps for event in events_of(tracker, "bot")
    )


def _class_name(prefix: str, code: str) -> str:
    return prefix + "".join(part.title() for part in code.split("_"))


# code → its advise action class, one per registered situation.
ADVISE_ACTIONS: dict[str, type[AdviseSituationAction]] = {
    entry.code: type(AdviseSituationAction)(
        _class_name("ActionAdvise", entry.code),
        (AdviseSituationAction,),
        {"situation": entry.code, "__module__": __name__},
    )
    for entry in situations().entries
}


def advise_action(code: str) -> AdviseSituationAction:
    """The advise action of one registered situation."""
    return ADVISE_ACTIONS[code]()


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
        intent = latest_intent(tracker)
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
        first = faq_asked_first(readable(latest_text(tracker)), intent)
        if first is not None:
            # The question asked first is answered first; the one the message was read as second.
            send(dispatcher, render_faq(knowledge.faq[first], knowledge.common))
            dispatcher.utter_message(response=INTRO_RESPONSE, label=load_table().label(intent))
            send(dispatcher, render_faq(answer, knowledge.common))
            return [SlotSet(SECOND_QUESTION_SLOT, None)]
        send(dispatcher, render_faq(answer, knowledge.common))
        return answer_second_question(dispatcher, tracker)


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
        starting = situations().by_intent(latest_intent(tracker))
        instead = case_instead_of_advice(tracker, starting.code if starting else None)
        if instead:
            return instead  # a case was asked for: no advice questions
        keep: set[str] = set()
        if starting is not None and starting.code == tracker.get_slot(SITUATION_SLOT):
            keep = set(knowledge.situations[starting.code].question_slots)
        return [
            SlotSet(slot, None)
            for slot in knowledge.question_slots()
            if slot not in keep and tracker.get_slot(slot) is not None
        ]

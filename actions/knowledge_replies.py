"""Answers from the knowledge base for one conversation: what the advice, follow-up and
case/conversation actions share (the answers given so far, sending rendered messages, the
situation advised last, follow-up questions).

The texts come from data/knowledge/*.yml through pos_assistant.knowledge; this module only
chooses and sends them.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.memory import fact_for_question
from actions.tracker_reading import (
    SITUATION_SLOT,
    as_bool,
    events_since_user_spoke,
    latest_text,
)
from pos_assistant.knowledge import KnowledgeError, get_knowledge_base
from pos_assistant.knowledge.models import Answers, CommonTexts, Item, KnowledgeBase, Situation
from pos_assistant.knowledge.renderer import RenderedMessage

logger = logging.getLogger(__name__)

SCAM_WARNING_RESPONSE = "utter_scam_warning"
UNAVAILABLE_RESPONSE = "utter_advice_unavailable"
NO_SITUATION_RESPONSE = "utter_advice_no_situation"
_SPACES = re.compile(r"\s+")


def answer_key(situation: str, answers: dict[str, bool | None]) -> str:
    """One full answer: the situation and the answers that chose its steps."""
    return situation + ":" + ",".join(f"{slot}={answers[slot]}" for slot in sorted(answers))


def current_answers(tracker: Tracker, situation: Situation) -> dict[str, bool | None]:
    """The answers to the situation's questions; what the user said (and corrected) since wins."""
    answers = {slot: as_bool(tracker.get_slot(slot)) for slot in situation.question_slots}
    for slot in situation.question_slots:
        remembered = fact_for_question(tracker, slot)
        if remembered is not None:
            answers[slot] = remembered
    return answers


def scam_warning_in_this_reply(tracker: Tracker) -> bool:
    """Whether utter_scam_warning (which carries the anti-fraud core) ran since the user spoke."""
    return any(
        event.get("event") == "action" and event.get("name") == SCAM_WARNING_RESPONSE
        for event in events_since_user_spoke(tracker)
    )


def send(dispatcher: CollectingDispatcher, messages: list[RenderedMessage]) -> None:
    for message in messages:
        buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        dispatcher.utter_message(text=message.text, buttons=buttons or None)


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


class MoreAboutSituationAction(Action, ABC):
    """Answers a quick reply ("详细说明", "法律依据", "再看一遍") for the situation advised last."""

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


def follow_up_topic(knowledge: KnowledgeBase, text: str | None) -> str | None:
    """The first topic (in file order) whose keyword the message contains."""
    if not text or text.startswith("/"):
        return None
    lowered = text.lower()
    compact = _SPACES.sub("", lowered)
    for topic in knowledge.follow_up_topics:
        for keyword in topic.keywords:
            if keyword in (lowered if " " in keyword else compact):
                return topic.name
    return None


def follow_up_answer(knowledge: KnowledgeBase, topic: str, tracker: Tracker) -> Item:
    """The situation's own answer to `topic` when it has one that applies, else the general one."""
    situation = knowledge.situations.get(tracker.get_slot(SITUATION_SLOT) or "")
    if situation is not None:
        answers = current_answers(tracker, situation)
        own = situation.follow_up(topic)
        if own is not None and own.applies(answers):
            return own
    return next(t.default for t in knowledge.follow_up_topics if t.name == topic)


def answer_follow_up(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answers the latest message as a follow-up question; False when it names no topic."""
    try:
        knowledge = get_knowledge_base()
    except KnowledgeError:
        logger.exception("knowledge base failed to load")
        return False
    topic = follow_up_topic(knowledge, latest_text(tracker))
    if topic is None:
        return False
    dispatcher.utter_message(text=follow_up_answer(knowledge, topic, tracker).text)
    return True


def answered_in_context(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A follow-up question the classifier missed ("怎么寄回去" read as out of scope, "挂了，现在打
    110，然后呢" read as case info), answered when a situation was advised in this conversation."""
    return bool(tracker.get_slot(SITUATION_SLOT)) and answer_follow_up(dispatcher, tracker)

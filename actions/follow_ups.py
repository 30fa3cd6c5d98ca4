"""What people ask after the steps: follow-up questions, "again please", "shorter please".

- action_answer_follow_up: "怎么寄回去", "会不会扣钱", "客服电话多少" … get the short answer for the
  topic the words name (data/knowledge/follow_ups.yml) and the situation advised last (that
  situation's `follow_ups:` first, else the topic's general answer). "How do I return it" must
  never get the activation guide.
- action_advice_repeat: the full steps again, when the user asked for them after the reminder that
  they were already sent (actions/advice.py sends a reminder instead of the same article twice).
- action_advice_shorter: "字太多" / "简单点": three lines from the last answer.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import (
    SITUATION_SLOT,
    MoreAboutSituationAction,
    advised_situation,
    current_answers,
)
from actions.two_questions import answer_second_question
from pos_assistant.knowledge import KnowledgeError, get_knowledge_base, render_situation
from pos_assistant.knowledge.models import Answers, CommonTexts, Item, KnowledgeBase, Situation
from pos_assistant.knowledge.renderer import RenderedMessage

logger = logging.getLogger(__name__)

FOLLOW_UP_UNKNOWN_RESPONSE = "utter_follow_up_unknown"
SHORTER_LINES = 3
# A line of the short version: a phone's width in large type.
SHORTER_LINE_CHARS = 40
_SPACES = re.compile(r"\s+")


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
    topic = follow_up_topic(knowledge, tracker.latest_message.get("text"))
    if topic is None:
        return False
    dispatcher.utter_message(text=follow_up_answer(knowledge, topic, tracker).text)
    return True


def answered_in_context(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A follow-up question the classifier missed ("怎么寄回去" read as out of scope, "挂了，现在打
    110，然后呢" read as case info), answered when a situation was advised in this conversation."""
    return bool(tracker.get_slot(SITUATION_SLOT)) and answer_follow_up(dispatcher, tracker)


class ActionAnswerFollowUp(Action):
    def name(self) -> str:
        return "action_answer_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not answer_follow_up(dispatcher, tracker):
            dispatcher.utter_message(response=FOLLOW_UP_UNKNOWN_RESPONSE)
            return []
        return answer_second_question(dispatcher, tracker)


class ActionAdviceRepeat(MoreAboutSituationAction):
    """The full answer for the situation advised last, although it was sent before."""

    def name(self) -> str:
        return "action_advice_repeat"

    def render(
        self, situation: Situation, answers: Answers, common: CommonTexts
    ) -> list[RenderedMessage]:
        return render_situation(situation, answers, common, include_core=True)


def shorter_lines(lines: list[str]) -> str:
    """At most three numbered lines, each cut to a phone's width."""
    short = []
    for number, line in enumerate(lines[:SHORTER_LINES], 1):
        if len(line) > SHORTER_LINE_CHARS:
            line = line[: SHORTER_LINE_CHARS - 1] + "…"
        short.append(f"{number}. {line}")
    return "\n".join(short)


class ActionAdviceShorter(Action):
    """ "字太多" / "看不清" / "简单点": the last situation's first three steps, one line each."""

    def name(self) -> str:
        return "action_advice_shorter"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        advised = advised_situation(dispatcher, tracker, "utter_shorter_no_situation")
        if advised is None:
            return []
        situation, answers, _ = advised
        steps = [item.text for item in situation.steps if item.applies(answers)]
        dispatcher.utter_message(text=shorter_lines(steps))
        return []

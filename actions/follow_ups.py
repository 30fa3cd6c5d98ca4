"""What people ask after the steps: follow-up questions, "again please", "shorter please".

- action_answer_follow_up: "怎么寄回去", "会不会扣钱", "客服电话多少" … get the short answer for the
  topic the words name (data/knowledge/follow_ups.yml) and the situation advised last (that
  situation's `follow_ups:` first, else the topic's general answer). "How do I return it" must
  never get the activation guide.
- action_advice_repeat: the full steps again, when the user asked for them after the reminder that
  they were already sent (the advise actions send a reminder instead of the same article twice).
- action_advice_shorter: "字太多" / "简单点": three lines from the last answer.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge_replies import (
    MoreAboutSituationAction,
    advised_situation,
    answer_follow_up,
)
from pos_assistant.knowledge import render_situation
from pos_assistant.knowledge.models import Answers, CommonTexts, Situation
from pos_assistant.knowledge.renderer import RenderedMessage

FOLLOW_UP_UNKNOWN_RESPONSE = "utter_follow_up_unknown"
SHORTER_LINES = 3
# A line of the short version: a phone's width in large type.
SHORTER_LINE_CHARS = 40


class ActionAnswerFollowUp(Action):
    def name(self) -> str:
        return "action_answer_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not answer_follow_up(dispatcher, tracker):
            dispatcher.utter_message(response=FOLLOW_UP_UNKNOWN_RESPONSE)
        return []


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

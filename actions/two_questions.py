"""Two questions in one message: the second is remembered and answered right after the first.

"有人打电话说是POS售后要我验证码，还有我那个押金怎么退" is understood as one intent (here the scam
call, which SafetyGuard puts first). `second_question` cuts the message at its joiners and sentence
ends (data/two_questions.yml) and finds a part about another topic; action_validate_slot_mappings
keeps it in the `second_question` slot. When the first answer has been given (the advice for a
situation, an FAQ, a follow-up answer), `answer_second_question` names it ("另外您问的押金怎么退")
and answers it: an FAQ or follow-up at once, a situation by starting its questions.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge_replies import follow_up_answer
from actions.memory import readable
from actions.tracker_reading import latest_intent, latest_text
from pos_assistant.knowledge import KnowledgeError, get_knowledge_base, render_faq
from pos_assistant.situations import situations

logger = logging.getLogger(__name__)

TWO_QUESTIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "two_questions.yml"
SECOND_QUESTION_SLOT = "second_question"
INTRO_RESPONSE = "utter_second_question_intro"
ONE_BY_ONE_RESPONSE = "utter_two_questions_one_by_one"
FOLLOW_UP_PREFIX = "follow_up:"
FOLLOW_UP_INTENT = "ask_follow_up"
FAQ_INTENTS = {"ask_fees", "ask_apply", "ask_activation"}
CASE_STATUS_INTENT = "check_case_status"


# What a message must be understood as for a second question in it to be looked for: an answer
# the assistant gives (not a fallback, a greeting or an answer to a form's question).
def answered_intents() -> set[str]:
    return {*(entry.intent for entry in situations().entries), *FAQ_INTENTS, FOLLOW_UP_INTENT}


_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Topic:
    key: str  # an intent name, or "follow_up:<topic>"
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class TwoQuestionsTable:
    joiners: tuple[str, ...]
    sentence_ends: tuple[str, ...]
    topics: tuple[Topic, ...]

    def label(self, key: str) -> str:
        return next((t.label for t in self.topics if t.key == key), "")


@lru_cache(maxsize=1)
def load_table(path: Path = TWO_QUESTIONS_FILE) -> TwoQuestionsTable:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    topics = [
        Topic(str(t["intent"]), str(t["label"]), tuple(str(k).lower() for k in t["keywords"]))
        for t in raw.get("topics") or []
    ]
    labels = raw.get("follow_up_labels") or {}
    try:
        follow_ups = get_knowledge_base().follow_up_topics
    except KnowledgeError:
        logger.exception("knowledge base failed to load; follow-ups are not second questions")
        follow_ups = ()
    # Follow-ups after situations and FAQs: their keywords ("收费", "找谁") are broader.
    topics += [
        Topic(FOLLOW_UP_PREFIX + f.name, str(labels.get(f.name) or ""), f.keywords)
        for f in follow_ups
    ]
    return TwoQuestionsTable(
        joiners=tuple(str(j).lower() for j in raw.get("joiners") or []),
        sentence_ends=tuple(str(e) for e in raw.get("sentence_ends") or []),
        topics=tuple(topics),
    )


def split_parts(text: str, table: TwoQuestionsTable) -> list[str]:
    """The message cut at joiners and sentence ends, empty parts dropped."""
    lowered = text.lower()
    for mark in table.sentence_ends:
        lowered = lowered.replace(mark, "\n")
    for joiner in sorted(table.joiners, key=len, reverse=True):
        if " " in joiner or joiner.isascii():
            lowered = re.sub(rf"(?<![a-z]){re.escape(joiner)}(?![a-z])", "\n", lowered)
        else:
            lowered = lowered.replace(joiner, "\n")
    return [part.strip(" ，,、") for part in lowered.split("\n") if part.strip(" ，,、")]


def topic_of(part: str, table: TwoQuestionsTable) -> Topic | None:
    compact = _SPACES.sub("", part)
    for topic in table.topics:
        for keyword in topic.keywords:
            if keyword in (part if " " in keyword else compact):
                return topic
    return None


def covers(intent: str | None, topic: Topic) -> bool:
    """Whether the answer to `intent` already answers the topic."""
    if topic.key.startswith(FOLLOW_UP_PREFIX):
        return intent == FOLLOW_UP_INTENT
    return intent == topic.key


def second_question(text: str | None, intent: str | None) -> str | None:
    """The key of a second question in `text` that the answer to `intent` leaves out, if any.

    Only a message of at least two parts counts, and only when one part is what the message was
    understood as: then the other part is surely a question of its own. A single sentence ("退押金
    得先交50手续费") is never split into two answers.
    """
    if not text or text.startswith("/") or intent not in answered_intents():
        return None
    table = load_table()
    topics = [topic_of(part, table) for part in split_parts(text, table)]
    found = [t for t in topics if t is not None]
    if len(topics) < 2:
        return None
    # The part the intent answers names its topic, or names none the table knows ("说好送的电饭煲
    # 一直没寄来" is the gift, though "赠品" is not in it). When no part is the intent's ("押金怎么
    # 退？另外你们客服电话多少" read as the fees question), the answer was given for the whole
    # message, which its first part leads: a later part is the second question.
    if not any(t is None or covers(intent, t) for t in topics):
        found = [t for t in topics[1:] if t is not None and t.key != topics[0].key]
    return next(
        (t.key for t in found if not covers(intent, t) and t.key != situations().scam.intent),
        None,
    )


def faq_asked_first(text: str | None, intent: str | None) -> str | None:
    """The FAQ a message asked before the one it was read as ("办一台pos机要多少钱，顺便问下怎么
    激活" read as the activation question): answered first, so the answers keep the asked order."""
    if not text or text.startswith("/") or intent not in FAQ_INTENTS:
        return None
    table = load_table()
    topics = [topic_of(part, table) for part in split_parts(text, table)]
    if len(topics) < 2 or topics[0] is None or topics[0].key not in FAQ_INTENTS:
        return None
    if topics[0].key == intent or not any(t and t.key == intent for t in topics[1:]):
        return None
    return topics[0].key


def second_question_events(tracker: Tracker) -> list[EventType]:
    """Remembers the latest message's second question; forgets an old one nobody is still on."""
    key = second_question(readable(latest_text(tracker)), latest_intent(tracker))
    if key is not None:
        return [SlotSet(SECOND_QUESTION_SLOT, key)]
    if tracker.get_slot(SECOND_QUESTION_SLOT) and tracker.active_loop_name is None:
        return [SlotSet(SECOND_QUESTION_SLOT, None)]
    return []


def announce_two_questions(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """ "您问了两件事…": said when a situation starts (its questions may come before the answer),
    by action_reset_advice_answers, so after a scam warning, never before it."""
    intent = latest_intent(tracker)
    key = tracker.get_slot(SECOND_QUESTION_SLOT)
    if not key or situations().by_intent(intent) is None:
        return
    if second_question(readable(latest_text(tracker)), intent) != key:
        return  # remembered from an earlier message: already named then
    table = load_table()
    dispatcher.utter_message(
        response=ONE_BY_ONE_RESPONSE, first=table.label(intent), second=table.label(key)
    )


def answer_second_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, events: list[EventType] | None = None
) -> list[EventType]:
    """Answers the remembered second question after a first answer, and forgets it."""
    key = tracker.get_slot(SECOND_QUESTION_SLOT)
    if not key:
        return []
    forget: list[EventType] = [SlotSet(SECOND_QUESTION_SLOT, None)]
    table = load_table()
    dispatcher.utter_message(response=INTRO_RESPONSE, label=table.label(key))
    if key.startswith(FOLLOW_UP_PREFIX):
        knowledge = get_knowledge_base()
        topic = key[len(FOLLOW_UP_PREFIX) :]
        answered = _tracker_with(tracker, events or [])
        dispatcher.utter_message(text=follow_up_answer(knowledge, topic, answered).text)
        return forget
    if key in FAQ_INTENTS:
        knowledge = get_knowledge_base()
        for message in render_faq(knowledge.faq[key], knowledge.common):
            buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
            dispatcher.utter_message(text=message.text, buttons=buttons or None)
        return forget
    situation = situations().by_intent(key)
    if situation is not None:
        # Its own questions start now, asked afresh (another situation's answers do not apply).
        return [
            *forget,
            *(SlotSet(s, None) for s in situation.asks),
            FollowupAction(situation.form),
        ]
    if key == CASE_STATUS_INTENT:
        return [*forget, FollowupAction("case_lookup_form")]
    logger.warning("second question %s has no answer", key)
    return forget


def _tracker_with(tracker: Tracker, events: list[EventType]) -> Tracker:
    """The tracker with the slots the first answer has just set (the situation it advised)."""
    slots = dict(tracker.slots)
    for event in events:
        if event.get("event") == "slot":
            slots[event["name"]] = event.get("value")
    copy: dict[str, Any] = tracker.current_state()
    copy["slots"] = slots
    return Tracker.from_dict(copy)

"""Reads a yes/no answer out of a free-text message, e.g. "已经把验证码给他了" → True.

The phrases live in the knowledge files (questions[].prefill). A "no" phrase that contains a
"yes" phrase wins over it ("不是货到付款" is no, although it contains "货到付款"); when the message
says both in separate places the question's `prefer_when_conflicting` decides, else we ask.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from enum import Enum
from functools import lru_cache
from pathlib import Path

import yaml

from pos_assistant.knowledge.models import Question

_SPACES = re.compile(r"\s+")


def _spans(text: str, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    spans = []
    for phrase in phrases:
        start = text.find(phrase)
        while start != -1:
            spans.append((start, start + len(phrase)))
            start = text.find(phrase, start + 1)
    return spans


class _Containers:
    """Answers "is this span inside one of those?" in O(log n): a message may repeat a phrase
    hundreds of times, and comparing every pair would cost n² steps."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._max_end: list[int] = []  # the furthest end among the spans starting up to here
        for _, end in ordered:
            self._max_end.append(max(end, self._max_end[-1]) if self._max_end else end)

    def contain(self, span: tuple[int, int]) -> bool:
        index = bisect_right(self._starts, span[0]) - 1  # the last span starting at or before
        return index >= 0 and self._max_end[index] >= span[1]


def detect_answer(question: Question, text: str | None) -> bool | None:
    """True / False when the text clearly answers the question, None when it does not."""
    if not text or text.startswith("/"):
        return None  # quick-reply payloads carry intents, not answers in words
    normalized = _SPACES.sub("", text)
    no_spans = _spans(normalized, question.no_phrases)
    inside_no = _Containers(no_spans)
    yes_spans = [
        span for span in _spans(normalized, question.yes_phrases) if not inside_no.contain(span)
    ]
    inside_yes = _Containers(yes_spans)
    no_spans = [s for s in no_spans if not inside_yes.contain(s)]
    if yes_spans and no_spans:
        return question.prefer_when_conflicting
    if yes_spans:
        return True
    if no_spans:
        return False
    return None


REPLY_WORDS_FILE = Path(__file__).resolve().parents[2] / "data" / "yes_no_replies.yml"
_MAX_DIRECT_REPLY_LENGTH = 30
_LEADING_NOISE = re.compile(r"^[\s,.!?，。！？、~～…]+")


class WholeReply(str, Enum):
    YES = "yes"
    NO = "no"
    SKIP = "skip"


@lru_cache(maxsize=1)
def _reply_words() -> dict:
    return yaml.safe_load(REPLY_WORDS_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _whole_replies() -> dict[str, WholeReply]:
    """Word → its one meaning; a word listed under two meanings is refused."""
    meanings: dict[str, WholeReply] = {}
    for meaning in WholeReply:
        for word in _reply_words()["whole_replies"][meaning.value]:
            word = str(word).lower()
            if word in meanings:
                raise ValueError(f"{REPLY_WORDS_FILE.name}: {word!r} has two meanings")
            meanings[word] = meaning
    return meanings


def whole_reply(text: str | None) -> WholeReply | None:
    """What a reply that is a single yes / no / skip word means ("没有。" → no), else None."""
    return _whole_replies().get((text or "").strip().strip("。.!！").lower())


@lru_cache(maxsize=1)
def _reply_openings() -> list[tuple[str, bool | None]]:
    """(opening, answer) pairs, longest first; answer None for `neither` openings."""
    words = _reply_words()
    pairs: list[tuple[str, bool | None]] = [(w, None) for w in words["neither"]]
    pairs += [(w, True) for w in words["means_yes"]] + [(w, False) for w in words["means_no"]]
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


# Openings that, joined straight to the next word, negate or name that word instead of answering:
# "还没签收" (not yet signed for) to "交过押金吗？", "是我儿子买的" to "有人联系您吗？".
_SCOPING_OPENINGS = frozenset(
    {"是", "有", "没", "没有", "不", "不是", "还没", "并没", "从没", "从来没", "应该没", "未", "无"}
)
# After such an opening these still leave it a plain yes/no ("没有呢", "有啊").
_SENTENCE_PARTICLES = frozenset("啊呀呢吧哦嘛啦喔哈的滴")
# Too common to show that the next word is about the question.
_PRONOUNS = frozenset("我你您他她它")


def _is_cjk(character: str) -> bool:
    return "\u4e00" <= character <= "\u9fff"


def _about_the_question(rest: str, question: Question) -> bool:
    """Whether what follows a scoping opening stays on the question's subject."""
    if not rest or not _is_cjk(rest[0]) or rest[0] in _SENTENCE_PARTICLES:
        return True
    if not (question.yes_phrases or question.no_phrases):
        return True  # a reader-based question has no vocabulary to compare with
    vocabulary = set(question.about).union(*question.yes_phrases, *question.no_phrases)
    return rest[0] in vocabulary - _PRONOUNS


def detect_direct_reply(text: str | None, question: Question | None = None) -> bool | None:
    """Yes/no from how a short reply to the question just asked begins ("没有 就是口头说的").

    With the question, an opening joined to a word off its subject is no answer ("还没签收").
    """
    if not text or text.startswith("/"):
        return None
    reply = _LEADING_NOISE.sub("", text.strip()).lower()
    if not reply or len(reply) > _MAX_DIRECT_REPLY_LENGTH:
        return None
    for opening, answer in _reply_openings():
        if reply.startswith(opening):
            rest = reply[len(opening) :]
            if opening.isascii() and rest[:1].isalpha():
                continue  # "no" must not match "now", nor "y" match "yesterday"
            if (
                question is not None
                and opening in _SCOPING_OPENINGS
                and not _about_the_question(rest, question)
            ):
                return None
            return answer
    return None

"""Reads a yes/no answer out of a free-text message, e.g. "已经把验证码给他了" → True.

The phrases live in the knowledge files (questions[].prefill). A "no" phrase that contains a
"yes" phrase wins over it ("不是货到付款" is no, although it contains "货到付款"); when the message
says both in separate places the question's `prefer_when_conflicting` decides, else we ask.
"""

from __future__ import annotations

import re

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


def _inside_any(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in others)


def detect_answer(question: Question, text: str | None) -> bool | None:
    """True / False when the text clearly answers the question, None when it does not."""
    if not text or text.startswith("/"):
        return None  # quick-reply payloads carry intents, not answers in words
    normalized = _SPACES.sub("", text)
    no_spans = _spans(normalized, question.no_phrases)
    yes_spans = [
        span for span in _spans(normalized, question.yes_phrases) if not _inside_any(span, no_spans)
    ]
    no_spans = [s for s in no_spans if not _inside_any(s, yes_spans)]
    if yes_spans and no_spans:
        return question.prefer_when_conflicting
    if yes_spans:
        return True
    if no_spans:
        return False
    return None

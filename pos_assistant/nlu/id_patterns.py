"""Finds IDs and amounts in (normalized) user text with regexes.

Patterns use lookarounds, never \\b: between a Chinese character and a digit there is no word
boundary (both are \\w), so \\b would miss "手机13812345678". When candidates overlap, the more
specific kind wins (a case number, then a serial number after its keyword (SN, 机身号),
then a tracking number, then a phone number), so a phone number is never read inside a case or
tracking number and nothing is extracted twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pos_assistant.nlu.chinese_numbers import NUMERAL_CHARS, amount_to_digits
from pos_assistant.nlu.normalization import NOT_TRACKING_PREFIXES
from pos_assistant.nlu.spans import TakenSpans
from pos_assistant.number_labels import label_alternatives

CASE_NUMBER = "case_number"
PHONE_NUMBER = "phone_number"
TRACKING_NUMBER = "tracking_number"
DEVICE_SN = "device_sn"
AMOUNT = "amount"


@dataclass(frozen=True)
class FoundEntity:
    entity: str
    start: int
    end: int
    value: str

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class _IdPattern:
    entity: str
    pattern: re.Pattern[str]
    to_value: Callable[[re.Match[str]], str | None]
    # Groups whose span is the entity's; none: the whole match (an amount includes its unit).
    span_groups: tuple[str, ...] = ("id",)


def _upper_without_separators(match: re.Match[str]) -> str:
    return re.sub(r"[\s\-]", "", match.group("id")).upper()


def _phone_value(match: re.Match[str]) -> str:
    return re.sub(r"\D", "", match.group("id"))


def _amount_value(match: re.Match[str]) -> str | None:
    return amount_to_digits(match.group("number"))


_SEP = r"[ \-]?"
_NOT_TRACKING = "|".join(NOT_TRACKING_PREFIXES)
_CHINESE_NUMBER = rf"[零〇一二两三四五六七八九十][{NUMERAL_CHARS}]*"
_ARABIC_NUMBER = r"\d+(?:\.\d+)?[万千]?"
# Without a currency word a Chinese numeral needs a magnitude: "押金两百" is an amount, while the
# 一 of "押金一直没退" is not.
_CHINESE_BARE_NUMBER = (
    rf"[零〇一二两三四五六七八九十][{NUMERAL_CHARS}]*?[十百千万亿][{NUMERAL_CHARS}]*"
)
# A numeral that is part of a vaguer quantity (几百块, 好几千元) is not an amount.
_NOT_AFTER_NUMBER = rf"(?<![\d.{NUMERAL_CHARS}几多好数上])"

# Ordered by priority: on overlap the earlier kind wins.
ID_PATTERNS: tuple[_IdPattern, ...] = (
    _IdPattern(
        CASE_NUMBER,
        re.compile(rf"(?<![A-Za-z0-9])(?P<id>CS{_SEP}(?:\d{_SEP}){{9}}\d)(?!\d)", re.I),
        _upper_without_separators,
    ),
    _IdPattern(
        DEVICE_SN,
        re.compile(
            # `\s*(?:是\s*)?`, not `\s*是?\s*`: two optional runs of spaces side by side make a
            # label followed by n spaces cost n² steps. The lookahead is bounded for the same
            # reason ("SNSNSN…" would scan to the end of the text from every label).
            rf"(?:S/?N|{label_alternatives('device_serial')}|(?<![工订单递户])编号)"
            r"(?:码)?\s*(?:(?:是|为|:)\s*)?"
            r"(?P<id>(?=[A-Za-z0-9]{0,19}\d)[A-Za-z0-9]{8,20})(?![A-Za-z0-9])",
            re.I,
        ),
        _upper_without_separators,
    ),
    _IdPattern(
        TRACKING_NUMBER,
        re.compile(
            rf"(?<![A-Za-z0-9/])(?!(?:{_NOT_TRACKING})\d)(?P<id>[A-Za-z]{{2,4}}\d{{10,15}})(?![A-Za-z0-9])"
        ),
        _upper_without_separators,
    ),
    _IdPattern(
        PHONE_NUMBER,
        re.compile(r"(?<!\d)(?:\+?86[ \-]?)?(?P<id>1[3-9]\d(?:[ \-]?\d){8})(?![\d\-])"),
        _phone_value,
    ),
    _IdPattern(
        AMOUNT,
        re.compile(
            rf"{_NOT_AFTER_NUMBER}(?P<number>{_ARABIC_NUMBER}|{_CHINESE_NUMBER})\s*"
            r"(?:块钱|元钱|元|块(?!儿)|rmb|人民币)",
            re.I,
        ),
        _amount_value,
        span_groups=(),
    ),
    _IdPattern(
        # A bare number next to 押金 ("交了299押金", "押金是299") is the deposit amount.
        AMOUNT,
        re.compile(
            rf"{_NOT_AFTER_NUMBER}(?P<number>{_ARABIC_NUMBER}|{_CHINESE_NUMBER})(?=的?押金)"
            rf"|(?<=押金)(?:是|为|交了|要)?(?P<number2>{_ARABIC_NUMBER}|{_CHINESE_BARE_NUMBER})"
            r"(?![\d个天月年台号次日周%])"
        ),
        lambda match: amount_to_digits(match.group("number") or match.group("number2")),
        span_groups=("number", "number2"),
    ),
)


def _span_of(match: re.Match[str], groups: tuple[str, ...]) -> tuple[int, int]:
    for group in groups:
        if match.group(group) is not None:
            return match.span(group)
    return match.span()


def find_ids(text: str, taken: Iterable[tuple[int, int]] = ()) -> list[FoundEntity]:
    """IDs and amounts in `text`, none overlapping each other or the `taken` spans."""
    found: list[FoundEntity] = []
    blocked = TakenSpans(taken)
    for id_pattern in ID_PATTERNS:
        for match in id_pattern.pattern.finditer(text):
            start, end = _span_of(match, id_pattern.span_groups)
            if blocked.overlaps(start, end):
                continue
            value = id_pattern.to_value(match)
            if not value:
                continue
            found.append(FoundEntity(id_pattern.entity, start, end, value))
            blocked.add(start, end)
    return sorted(found, key=lambda entity: entity.start)

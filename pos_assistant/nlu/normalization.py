"""Text normalization that remembers where every character came from.

Users write full-width letters, Traditional characters, filter-dodging spellings (七咋, ka卡, pos鸡)
and IDs with spaces or dashes. The NLU pipeline works on the normalized text, but entity positions
must point into the text the user actually sent, so every normalized character carries the span of
original characters it was made from.

A card or ID number, code or password the user typed is cut out of the normalized text (its label
stays: "我卡号，机器没激活想退押金"): a long number would otherwise make any message look like
`inform`, and nothing downstream needs the value. What was cut is listed in `secrets`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pos_assistant.disclosed_secrets import SECRET_KINDS, secret_spans

Span = tuple[int, int]

_FULL_WIDTH_SPACE = "\u3000"
_FULL_WIDTH_FIRST, _FULL_WIDTH_LAST = 0xFF01, 0xFF5E
_FULL_TO_HALF_OFFSET = 0xFEE0

# IDs typed with separators: "CS 2611 2200 07", "138 1234 5678", "138-1234-5678", "sf 1234 ...".
_SEPARATOR = r"[ \t\-]{0,2}"
_SPACED_CASE_ID = re.compile(rf"(?<![A-Za-z])cs{_SEPARATOR}(?:\d{_SEPARATOR}){{9}}\d(?!\d)", re.I)
_SPACED_PHONE = re.compile(rf"(?<![\d\-])1[3-9]\d(?:{_SEPARATOR}\d){{8}}(?![\d\-])")
# Letter prefixes that are never a courier's (case numbers, serial numbers, chat accounts).
NOT_TRACKING_PREFIXES = ("CS", "SN", "QQ", "VX", "WX", "TEL", "NO", "ID", "POS")
_NOT_TRACKING = "|".join(NOT_TRACKING_PREFIXES)
# Courier prefixes that users separate from the digits ("sf 1234 5678 90"). Any other word before
# a number stays a word: "my phone is 136…" must not become the waybill "IS136…".
COURIER_PREFIXES = (
    "SF", "JD", "JDV", "JDX", "YT", "YTO", "JT", "ZTO", "STO", "YD", "EMS", "DPK", "KYE", "ZJS",
)  # fmt: skip
_COURIER = "|".join(COURIER_PREFIXES)
_SPACED_TRACKING = re.compile(
    rf"(?<![A-Za-z/])(?:(?!(?:{_NOT_TRACKING})\d)[a-z]{{2,4}}|(?:{_COURIER})[ \t\-]{{1,2}})"
    rf"(?:\d{_SEPARATOR}){{9,14}}\d(?!\d)",
    re.I,
)
_ID_SEPARATORS = re.compile(r"[ \t\-]")


@dataclass(frozen=True)
class NormalizedText:
    """The normalized text plus, for each of its characters, the original span it came from."""

    original: str
    text: str
    spans: tuple[Span, ...]
    secrets: tuple[str, ...] = ()

    def to_original_span(self, start: int, end: int) -> Span:
        """Maps a [start, end) span of the normalized text to the original text."""
        if not self.text or start >= end:
            position = self.spans[min(start, len(self.spans) - 1)][0] if self.spans else 0
            return position, position
        start = max(0, min(start, len(self.spans) - 1))
        end = max(start + 1, min(end, len(self.spans)))
        return self.spans[start][0], self.spans[end - 1][1]

    def to_normalized_span(self, start: int, end: int) -> Span | None:
        """Maps a [start, end) span of the original text to the normalized text (None if gone)."""
        inside = [
            index
            for index, (char_start, char_end) in enumerate(self.spans)
            if char_start < end and char_end > start
        ]
        if not inside:
            return None
        return inside[0], inside[-1] + 1


def _identity(text: str) -> NormalizedText:
    return NormalizedText(text, text, tuple((index, index + 1) for index in range(len(text))))


def _map_chars(current: NormalizedText, convert: Callable[[str], str]) -> NormalizedText:
    """Converts character by character; a character may become several (all share its span)."""
    pieces: list[str] = []
    spans: list[Span] = []
    for char, span in zip(current.text, current.spans, strict=True):
        converted = convert(char)
        pieces.append(converted)
        spans.extend([span] * len(converted))
    return NormalizedText(current.original, "".join(pieces), tuple(spans))


def _rewrite(
    current: NormalizedText,
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
    keep_surviving_chars: bool = False,
) -> NormalizedText:
    """Replaces every match of `pattern`.

    A replacement of the same length keeps the per-character spans. Otherwise every new character
    takes the span of the whole match (ka卡 → 卡 stands for all of "ka卡"), unless
    `keep_surviving_chars`: then characters that survive in order (the digits of an ID whose
    spaces are dropped) keep their own span.
    """
    pieces: list[str] = []
    spans: list[Span] = []
    cursor = 0
    for match in pattern.finditer(current.text):
        start, end = match.span()
        pieces.append(current.text[cursor:start])
        spans.extend(current.spans[cursor:start])
        replacement = replace(match)
        old_spans = current.spans[start:end]
        if len(replacement) == end - start:
            spans.extend(old_spans)
        else:
            whole = (old_spans[0][0], old_spans[-1][1]) if old_spans else (0, 0)
            if keep_surviving_chars:
                spans.extend(_align_subsequence(match.group(0), replacement, old_spans, whole))
            else:
                spans.extend([whole] * len(replacement))
        pieces.append(replacement)
        cursor = end
    pieces.append(current.text[cursor:])
    spans.extend(current.spans[cursor:])
    return NormalizedText(current.original, "".join(pieces), tuple(spans))


def _cut_secrets(current: NormalizedText) -> NormalizedText:
    """Removes the values of the secrets in the text and records their kinds."""
    found = secret_spans(current.text)
    if not found:
        return current
    cut = {index for _, start, end in found for index in range(start, end)}
    kept = [index for index in range(len(current.text)) if index not in cut]
    kinds = {kind for kind, _, _ in found}
    secrets = tuple(kind for kind in SECRET_KINDS if kind in kinds)
    text = "".join(current.text[index] for index in kept)
    if not text.strip():  # a bare number: keep it, the pipeline needs some text to read
        return NormalizedText(current.original, current.text, current.spans, secrets)
    return NormalizedText(
        current.original, text, tuple(current.spans[index] for index in kept), secrets
    )


def _align_subsequence(old: str, new: str, old_spans: tuple[Span, ...], whole: Span) -> list[Span]:
    """Spans for `new`: its characters found in order (case-insensitively) in `old` keep theirs."""
    result: list[Span] = []
    old_index = 0
    for char in new:
        found = old.lower().find(char.lower(), old_index)
        if found == -1 or len(new) > len(old):
            result.append(whole)
        else:
            result.append(old_spans[found])
            old_index = found + 1
    return result


def full_width_to_half_width(char: str) -> str:
    code = ord(char)
    if char == _FULL_WIDTH_SPACE:
        return " "
    if _FULL_WIDTH_FIRST <= code <= _FULL_WIDTH_LAST:
        return chr(code - _FULL_TO_HALF_OFFSET)
    return char


@lru_cache(maxsize=1)
def _traditional_to_simplified_converter() -> Callable[[str], str]:
    from opencc import OpenCC  # imported lazily: building the converter reads its dictionaries

    return OpenCC("t2s").convert


# The dictionaries of OpenCC's "t2s" conversion (opencc/config/t2s.json), characters first.
_T2S_DICTIONARIES = ("TSCharacters.txt", "TSPhrases.txt")


@lru_cache(maxsize=1)
def characters_the_conversion_changes() -> frozenset[str]:
    """Characters such that every t2s entry that rewrites something contains one of them.

    The pure-Python converter costs about 5 ms on a 1,000-character message, and most messages
    are already Simplified. An entry can only match a text that holds all its characters, so a
    text with none of these converts to itself. Mostly the Traditional characters; a phrase adds
    characters only when it holds none yet ("情有獨鍾" is covered by 獨, so 有 stays out).
    """
    import opencc

    changed: set[str] = set()
    dictionaries = Path(opencc.__file__).parent / "dictionary"
    for name in _T2S_DICTIONARIES:
        for line in (dictionaries / name).read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("\t")
            if key == value or not changed.isdisjoint(key):
                continue
            if len(key) == len(value):
                changed.update(old for old, new in zip(key, value, strict=True) if old != new)
            else:  # several candidates ("乾\t干 乾") or a longer phrase: every character counts
                changed.update(key)
    return frozenset(changed)


def _compact_id(match: re.Match[str]) -> str:
    return _ID_SEPARATORS.sub("", match.group(0)).upper()


class TextNormalization:
    """Normalizes user text for the NLU pipeline; see the module docstring for the steps."""

    def __init__(self, replacements: Mapping[str, str]) -> None:
        self._replacements = {key.lower(): value for key, value in replacements.items() if key}
        keys = sorted(self._replacements, key=len, reverse=True)
        self._replacement_pattern = (
            re.compile("|".join(re.escape(key) for key in keys), re.IGNORECASE) if keys else None
        )

    def normalize(self, text: str) -> NormalizedText:
        current = _identity(text)
        current = _map_chars(current, full_width_to_half_width)
        current = self._traditional_to_simplified(current)
        if self._replacement_pattern is not None:
            current = _rewrite(
                current,
                self._replacement_pattern,
                lambda match: self._replacements[match.group(0).lower()],
            )
        for pattern in (_SPACED_CASE_ID, _SPACED_TRACKING, _SPACED_PHONE):
            current = _rewrite(current, pattern, _compact_id, keep_surviving_chars=True)
        current = _drop_emoji_beside_words(current)
        return _cut_secrets(current)

    @staticmethod
    def _traditional_to_simplified(current: NormalizedText) -> NormalizedText:
        if characters_the_conversion_changes().isdisjoint(current.text):
            return current
        convert = _traditional_to_simplified_converter()
        converted = convert(current.text)
        if len(converted) == len(current.text):
            # OpenCC converts phrases (better than per character); same length keeps the spans.
            return NormalizedText(current.original, converted, current.spans)
        return _map_chars(current, convert)


# Emoji read beside words: "押金😭😭 退不了" is read by its words. A message of emoji alone keeps
# them (its shape, "no letters at all", is what the classifier and the actions go by).
# One character class with a single quantifier: linear.
_EMOJI_RUN = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]+")
_WORD_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def _drop_emoji_beside_words(current: NormalizedText) -> NormalizedText:
    if not _WORD_CHAR.search(current.text) or not _EMOJI_RUN.search(current.text):
        return current
    return _rewrite(current, _EMOJI_RUN, lambda match: " ")

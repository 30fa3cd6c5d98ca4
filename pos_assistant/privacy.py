"""Masking of personal data in anything written for people to read later (logs, transcripts).

Phone numbers keep their first 3 and last 4 digits (138****5678); resident ID numbers keep their
first 3 and last 4 characters; long digit runs that look like bank card numbers keep their last 4;
a verification code or password typed after its label ("验证码是 483920") is hidden completely.

Numbers are found however they are typed: ASCII, full-width (１３８…) or other Unicode digits,
Chinese numerals written digit by digit (一三八…, 幺 for 1, 两 for 2, 壹贰叁…), in any grouping
with spaces, dashes or dots (1381-234-5678, 138 12 34 56 78, 138.1234.5678), and mixed. The text
is first mapped character by character to a "view" of the same length (every digit form → ASCII
digit, every separator → a space), so a span found in the view is the same span in the original.

What a user gives away to the assistant itself is found by disclosed_secrets.py; log records are
masked by log_masking.py with the functions here.

Every pattern here is linear in the length of the text: no unbounded quantifier is nested in or
next to another one over the same characters (tests/unit/test_regex_linear.py checks them all).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pos_assistant.disclosed_secrets import CODE_LABEL

# Chinese numerals written digit by digit, as people read out a phone number.
_CHINESE_DIGITS = {
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2",
    "贰": "2", "貳": "2", "三": "3", "叁": "3", "參": "3", "四": "4", "肆": "4", "五": "5",
    "伍": "5", "六": "6", "陆": "6", "陸": "6", "七": "7", "柒": "7", "八": "8", "捌": "8",
    "九": "9", "玖": "9",
}  # fmt: skip
# What people put between digit groups: spaces of any width, dashes, dots.
_GROUP_SEPARATORS = frozenset("-－‐‑‒–—―−﹣.．·・")
# Up to this many separator characters between two digit groups keep them one number.
_MAX_GROUP_GAP = 5
_VIEW_CACHE_SIZE = 8192


class _View(dict[int, str]):
    """A str.translate table built on demand: every character maps to exactly one character."""

    def __init__(self, separators_to_space: bool) -> None:
        super().__init__()
        self._separators_to_space = separators_to_space

    def __missing__(self, code: int) -> str:
        char = chr(code)
        digit = unicodedata.digit(char, None)
        if digit is not None:
            mapped = str(digit)
        elif char in _CHINESE_DIGITS:
            mapped = _CHINESE_DIGITS[char]
        elif char.isspace() or unicodedata.category(char) == "Cf":
            mapped = " "  # zero-width and other invisible characters count as spaces
        elif self._separators_to_space and char in _GROUP_SEPARATORS:
            mapped = " "
        elif 0xFF01 <= code <= 0xFF5E:  # full-width ASCII
            mapped = chr(code - 0xFEE0)
        else:
            mapped = char
        if len(self) < _VIEW_CACHE_SIZE:  # random text must not grow the cache without end
            self[code] = mapped
        return mapped


_NUMBER_VIEW = _View(separators_to_space=True)
_LABEL_VIEW = _View(separators_to_space=False)
_DIGIT_GROUP = re.compile(r"[0-9]+")
_ID_CHECK_LETTER = re.compile(r" {0,5}[Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")

# A code or password after its label. Codes are matched on the number view, so a code typed in
# groups ("4 8 3-9 2 0") is one value; passwords on the label view (separators kept).
_LABEL_GAP = r"[\s:：=＝,，]{0,5}(?:(?:是|为|is|:)[\s:：=＝,，]{0,5})?"
_MASKED_CODE = re.compile(
    rf"(?P<label>{CODE_LABEL}|(?<![a-z])(?:pin|cvv2?|cvn2?)码?|安全码)"
    rf"{_LABEL_GAP}(?P<value>[0-9](?: {{0,5}}[0-9]){{2,}})",
    re.IGNORECASE,
)
_MASKED_PASSWORD = re.compile(
    rf"(?P<label>密码|口令|(?<![a-z])(?:password|passcode|passwd|pwd))"
    rf"{_LABEL_GAP}(?P<value>(?:(?![,;])[!-~]){{4,64}})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundNumber:
    """A personal number in a text: its kind, span in the original text and its digits."""

    kind: str  # "phone", "id_number" or "card_number"
    start: int
    end: int
    digits: str  # only the digits (with a final X for an ID number), country code removed


def _kind_of(digits: str) -> str | None:
    if len(digits) == 11 and _MOBILE.fullmatch(digits):
        return "phone"
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        return "phone"
    if len(digits) == 18 and digits[0] != "0":
        return "id_number"
    if 15 <= len(digits) <= 19:
        return "card_number"
    return None


def _found(kind: str, view: str, groups: list[tuple[int, int]], digits: str) -> FoundNumber:
    start, end = groups[0][0], groups[-1][1]
    if kind == "phone" and len(digits) == 13:
        # "+86 138…": the country code stays readable, the mobile number is masked.
        start = [index for index in range(start, end) if view[index].isdigit()][2]
        digits = digits[2:]
    return FoundNumber(kind, start, end, digits)


def _digit_runs(view: str) -> Iterator[list[tuple[int, int]]]:
    """Digit groups of the number view, grouped into runs (groups a few separators apart)."""
    run: list[tuple[int, int]] = []
    for match in _DIGIT_GROUP.finditer(view):
        start, end = match.span()
        if run and (start - run[-1][1] > _MAX_GROUP_GAP or view[run[-1][1] : start].strip(" ")):
            yield run
            run = []
        run.append((start, end))
    if run:
        yield run


def _check_letter_end(view: str, end: int) -> int | None:
    """Where an ID number's final X ends, when one follows `end` (or None)."""
    match = _ID_CHECK_LETTER.match(view, end)
    return match.end() if match else None


def _numbers_in_run(view: str, groups: list[tuple[int, int]]) -> Iterator[FoundNumber]:
    digits = "".join(view[start:end] for start, end in groups)
    run_start, run_end = groups[0][0], groups[-1][1]
    if len(digits) == 17 and digits[0] != "0":
        x_end = _check_letter_end(view, run_end)
        if x_end is not None:
            yield FoundNumber("id_number", run_start, x_end, digits + "X")
            return
    kind = _kind_of(digits)
    if kind is not None:
        yield _found(kind, view, groups, digits)
        return
    if len(digits) < 12:
        return
    # Several numbers a space apart ("卡号6222… 电话138…"), or a number with a stray digit
    # ("13812345678 3点后打"): look for whole numbers made of consecutive groups.
    uncovered: list[tuple[int, int]] = []  # groups in no number found, in order
    index = 0
    while index < len(groups):
        length, found = 0, None
        for last in range(index, len(groups)):
            length += groups[last][1] - groups[last][0]
            if length > 19:
                break
            window = "".join(view[start:end] for start, end in groups[index : last + 1])
            kind = _kind_of(window)
            if kind is not None:
                found = _found(kind, view, groups[index : last + 1], window)
                break
        if found is None:
            uncovered.append(groups[index])
            index += 1
            continue
        yield from _long_stretches(view, uncovered)
        uncovered = []
        yield found
        index = last + 1
    yield from _long_stretches(view, uncovered)


def _long_stretches(view: str, groups: list[tuple[int, int]]) -> Iterator[FoundNumber]:
    """What is left of a run may still hide a card number: 15 digits or more keep their last 4."""
    digits = "".join(view[start:end] for start, end in groups)
    if len(digits) >= 15:
        yield FoundNumber("card_number", groups[0][0], groups[-1][1], digits)


def find_numbers(text: str) -> list[FoundNumber]:
    """Every phone, ID and card number in `text`, however typed (see the module docstring)."""
    return _numbers_in_view(text.translate(_NUMBER_VIEW))


def _numbers_in_view(view: str) -> list[FoundNumber]:
    return [number for run in _digit_runs(view) for number in _numbers_in_run(view, run)]


def ascii_digits(text: str) -> str:
    """`text` with every digit form (full-width, Chinese numerals…) and full-width form in ASCII.

    One character for one character, so positions stay valid.
    """
    return text.translate(_LABEL_VIEW)


def phone_numbers_in(text: str) -> list[str]:
    """The mainland mobile numbers in `text` as 11 ASCII digits, in text order."""
    return [number.digits for number in find_numbers(text) if number.kind == "phone"]


def _masked(number: FoundNumber) -> str:
    digits = number.digits
    if number.kind == "phone":
        return f"{digits[:3]}****{digits[-4:]}"
    if number.kind == "id_number":
        return f"{digits[:3]}***********{digits[-4:]}"
    return f"************{digits[-4:]}"


def mask_text(text: str) -> str:
    """Masks every phone, ID and card number, verification code and password inside free text."""
    if not text:
        return text
    number_view, label_view = text.translate(_NUMBER_VIEW), text.translate(_LABEL_VIEW)
    replacements = [(n.start, n.end, _masked(n)) for n in _numbers_in_view(number_view)]
    # Codes on the number view (any digit form, separators as spaces), passwords as typed.
    for pattern, view in ((_MASKED_CODE, number_view), (_MASKED_PASSWORD, label_view)):
        for match in pattern.finditer(view):
            # The label stays; what follows it up to the end of the value is hidden.
            replacements.append((match.end("label"), match.end(), "******"))
    kept: list[tuple[int, int, str]] = []
    for start, end, replacement in replacements:  # numbers first: they win on overlap
        if all(end <= kept_start or start >= kept_end for kept_start, kept_end, _ in kept):
            kept.append((start, end, replacement))
    pieces: list[str] = []
    cursor = 0
    for start, end, replacement in sorted(kept):
        pieces += [text[cursor:start], replacement]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


# Keys whose values are names and ids the assistant itself made, never text a user typed.
_STRUCTURAL_KEYS = frozenset(
    {"event", "timestamp", "name", "message_id", "input_channel", "client_address", "policy"}
)


def _is_structural(key: str) -> bool:
    return key in _STRUCTURAL_KEYS or key.endswith("_id")


def mask_data(value: Any) -> Any:
    """`value` with every string in it masked (dicts and lists recursively, ids untouched)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {
            key: item if _is_structural(str(key)) else mask_data(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_data(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        # A number typed into a slot of type `any` may arrive as a JSON integer.
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    return value

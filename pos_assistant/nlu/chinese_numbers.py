"""Chinese numerals as users write amounts: 两百九十九, 一千二 (= 1200), 三万五, 1.5万."""

from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9}  # fmt: skip
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
NUMERAL_CHARS = "".join([*DIGITS, *SMALL_UNITS, *BIG_UNITS])

# Larger "amounts" are digit runs someone typed, not money; float() would make some of them inf.
MAX_AMOUNT = 1e12

_ARABIC_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?)([十百千万亿]?)")


def parse_chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral, or None when `text` is not one.

    A digit right after a unit is the colloquial short form of the next lower unit: 一千二 = 1200,
    三万五 = 35000, 两百五 = 250; after 零 it is a plain digit again: 一百零五 = 105.
    """
    if not text or any(char not in NUMERAL_CHARS for char in text):
        return None
    total = section = digit = 0
    last_unit = 1
    after_unit = False
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
            # 零 cancels the short form (一百零五); a digit right after a unit keeps it (一千二).
            if char in "零〇":
                after_unit = False
            continue
        if char in SMALL_UNITS:
            unit = SMALL_UNITS[char]
            section += (digit or 1) * unit  # 十五: a bare unit counts once
            digit, last_unit, after_unit = 0, unit, True
            continue
        unit = BIG_UNITS[char]
        total += (section + digit or 1) * unit
        section = digit = 0
        last_unit, after_unit = unit, True
    if digit:
        section += digit * (last_unit // 10) if after_unit and last_unit >= 100 else digit
    return total + section


def amount_to_digits(number: str) -> str | None:
    """An amount written with Arabic or Chinese numerals as a plain digit string ("299", "59.9")."""
    number = number.strip()
    match = _ARABIC_WITH_UNIT.fullmatch(number)
    if match:
        value = float(match.group(1))
        unit = match.group(2)
        if unit:
            value *= {**SMALL_UNITS, **BIG_UNITS}[unit]
        if not value < MAX_AMOUNT:  # a digit run of any length is no amount (and float can be inf)
            return None
        return str(int(value)) if value == int(value) else f"{value:g}"
    parsed = parse_chinese_number(number)
    return None if parsed is None else str(parsed)

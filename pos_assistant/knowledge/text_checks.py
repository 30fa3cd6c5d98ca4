"""Checks every knowledge text must pass: no links, no phone numbers but the official ones."""

from __future__ import annotations

import re

OFFICIAL_PHONE_NUMBERS = frozenset({"110", "96110", "12363", "12315"})

_URL = re.compile(r"https?://|www\.|[A-Za-z0-9-]+\.(?:cn|com|net|org)\b", re.IGNORECASE)
# Runs of three or more digits are phone-like unless they are an amount (元) or a year (年).
_DIGIT_RUN = re.compile(r"(?<!\d)\d{3,}(?!\d)")
_NOT_A_PHONE_SUFFIXES = ("元", "年")


def find_url(text: str) -> str | None:
    match = _URL.search(text)
    return match.group(0) if match else None


def find_unofficial_numbers(text: str) -> list[str]:
    """Digit runs that look like phone numbers and are not one of the official lines."""
    found = []
    for match in _DIGIT_RUN.finditer(text):
        number, after = match.group(0), text[match.end() : match.end() + 1]
        if number in OFFICIAL_PHONE_NUMBERS or after in _NOT_A_PHONE_SUFFIXES:
            continue
        found.append(number)
    return found

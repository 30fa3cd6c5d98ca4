"""Checks every knowledge text must pass: no links, no phone numbers but the official ones."""

from __future__ import annotations

import re
from collections.abc import Collection

from pos_assistant.knowledge.policy import content_policy

_URL = re.compile(r"https?://|www\.|[A-Za-z0-9-]+\.(?:cn|com|net|org)\b", re.IGNORECASE)
# Runs of three or more digits are phone-like unless they are an amount (元) or a year (年).
_DIGIT_RUN = re.compile(r"(?<!\d)\d{3,}(?!\d)")
_NOT_A_PHONE_SUFFIXES = ("元", "年")


def find_url(text: str) -> str | None:
    match = _URL.search(text)
    return match.group(0) if match else None


def find_unofficial_numbers(text: str, official: Collection[str] | None = None) -> list[str]:
    """Digit runs that look like phone numbers and are not one of the official lines
    (data/knowledge/content_policy.yml unless `official` is given)."""
    allowed = content_policy().phone_numbers if official is None else official
    found = []
    for match in _DIGIT_RUN.finditer(text):
        number, after = match.group(0), text[match.end() : match.end() + 1]
        if number in allowed or after in _NOT_A_PHONE_SUFFIXES:
            continue
        found.append(number)
    return found

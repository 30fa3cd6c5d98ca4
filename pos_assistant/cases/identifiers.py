"""Parsing, validating and masking of the identifiers users type: phone and case numbers.

Digits may come full-width (１３８…) or as Chinese numerals read out one by one (一三八…, 幺 for
1, 两 for 2), in any grouping (privacy.py finds numbers the same way when it masks them).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable

from pos_assistant.privacy import ascii_digits, mask_text, phone_numbers_in

CASE_NUMBER_PATTERN = re.compile(r"^CS\d{10}$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-‐‑–—_.()（）]+")


def _half_width(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _ascii_number(text: str) -> str:
    """For parsing a number only: 一 and 两 become digits, which prose must not."""
    return ascii_digits(_half_width(text))


def normalize_phone(raw: str | None) -> str | None:
    """The 11 digits of a mainland mobile number, or None when `raw` is not one.

    Accepts spaces, dashes, dots, full-width digits, Chinese numerals and a +86 / 86 prefix.
    """
    if not raw:
        return None
    compact = _SEPARATORS.sub("", _ascii_number(str(raw)))
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("86") and len(compact) == 13:
        compact = compact[2:]
    return compact if MOBILE_PATTERN.match(compact) else None


def find_phone(text: str | None) -> str | None:
    """The first mainland mobile number written anywhere in free text."""
    if not text:
        return None
    phones = phone_numbers_in(text)
    return phones[0] if phones else None


def mask_phone(phone: str | None) -> str:
    """138****5678 for users and logs; anything that is not 11 digits is fully hidden."""
    if not phone or len(phone) != 11 or not phone.isdigit():
        return "***"
    return f"{phone[:3]}****{phone[-4:]}"


def mask_numbers_in_text(text: str) -> str:
    """Masks every mobile (and ID or card) number inside free text (summaries for agents)."""
    return mask_text(_half_width(text))


def normalize_case_number(raw: str | None) -> str | None:
    """CS + 10 digits, upper-case without separators, or None when `raw` is not a case number."""
    if not raw:
        return None
    compact = _SEPARATORS.sub("", _half_width(str(raw))).upper()
    return compact if CASE_NUMBER_PATTERN.match(compact) else None


# Damm's quasigroup: one check digit that catches every single-digit typo and every swap of two
# neighbouring digits.
_DAMM_TABLE = (
    "0317598642",
    "7092154863",
    "4206871359",
    "1750983426",
    "6123045978",
    "3674209581",
    "5869720134",
    "8945362017",
    "9438617205",
    "2581436790",
)
CASE_NUMBER_RANDOM_DIGITS = 9


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of digits."""
    interim = 0
    for digit in digits:
        interim = int(_DAMM_TABLE[interim][int(digit)])
    return str(interim)


def has_valid_check_digit(case_number: str | None) -> bool:
    """Whether a (normalized) case number ends in the check digit of its other digits.

    Numbers issued before random numbering have no check digit; they stay valid case numbers
    (normalize_case_number accepts them), this only tells the new ones apart.
    """
    normalized = normalize_case_number(case_number)
    return normalized is not None and check_digit(normalized[2:]) == "0"


def new_case_number(random_below: Callable[[int], int] = secrets.randbelow) -> str:
    """CS + 9 random digits + a check digit: no order, no date, nothing to count up from.

    Drawn from the operating system's CSPRNG, so knowing one number says nothing about any
    other; with 10^9 possibilities nothing runs out in a day (the store retries on a clash).
    """
    body = f"{random_below(10**CASE_NUMBER_RANDOM_DIGITS):0{CASE_NUMBER_RANDOM_DIGITS}d}"
    return f"CS{body}{check_digit(body)}"


def normalize_last4(raw: str | None) -> str | None:
    """Exactly four digits (the end of the case's phone), or None."""
    if raw is None:
        return None
    compact = _SEPARATORS.sub("", _ascii_number(str(raw)))
    match = re.search(r"(?<!\d)(\d{4})(?!\d)", compact)
    return match.group(1) if match else None

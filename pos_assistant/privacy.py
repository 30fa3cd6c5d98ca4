"""Masking of personal data in anything written for people to read later (logs, transcripts).

Phone numbers keep their first 3 and last 4 digits (138****5678); resident ID numbers keep their
first 3 and last 4 characters; long digit runs that look like bank card numbers keep their last 4.
"""

from __future__ import annotations

import logging
import re

# Lookarounds instead of \b: \b never fires between a Chinese character and a digit. Groups:
# the first 3, middle 4 and last 4 digits of a mainland mobile number (also used to find one).
PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:\+?86[\s\-]?)?(1[3-9][0-9])[\s\-]?([0-9]{4})[\s\-]?([0-9]{4})(?![0-9])"
)
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{2})[0-9]{11}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_CARD_NUMBER = re.compile(r"(?<![0-9])[0-9]{12,15}([0-9]{4})(?![0-9])")


def mask_text(text: str) -> str:
    """Masks every phone, ID and card number inside free text."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}***********{m.group(2)}", text)
    text = _CARD_NUMBER.sub(lambda m: f"************{m.group(1)}", text)
    return PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class MaskingLogFilter(logging.Filter):
    """Rewrites log records so that no phone, ID or card number reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as is rather than dropped
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking() -> None:
    """Adds the masking filter to every handler of the root logger (idempotent)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingLogFilter) for f in handler.filters):
            handler.addFilter(MaskingLogFilter())

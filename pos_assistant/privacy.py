"""Masking of personal data in anything written for people to read later (logs, transcripts).

Phone numbers keep their first 3 and last 4 digits (138****5678); resident ID numbers keep their
first 3 and last 4 characters; long digit runs that look like bank card numbers keep their last 4
(also when typed in groups: "6222 0212 3456 7890"); a verification code or password typed after its
label ("验证码是 483920") is hidden completely.

`disclosed_secrets` names what a message gives away, so the assistant can tell the user not to.
"""

from __future__ import annotations

import logging
import re

# Lookarounds instead of \b: \b never fires between a Chinese character and a digit. Groups:
# the first 3, middle 4 and last 4 digits of a mainland mobile number (also used to find one).
PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:\+?86[\s\-]?)?(1[3-9][0-9])[\s\-]?([0-9]{4})[\s\-]?([0-9]{4})(?![0-9])"
)
# One optional space or dash between digits: people type long numbers in groups of 4 or 6-8-4.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{2})(?:[\s\-]?[0-9]){11}[\s\-]?([0-9]{3}[0-9Xx])(?![0-9A-Za-z])"
)
_CARD_NUMBER = re.compile(r"(?<![0-9])[0-9](?:[\s\-]?[0-9]){15,18}(?![0-9])")
_SEPARATOR = r"(?:是|为|:|：|is|\s)*"
# English "code" alone is an SMS code only when it is not a terminal's "error code 1234".
_CODE_LABEL = r"验证码|校验码|动态码|短信码|(?<![a-z])(?<!error )(?:verification |sms |otp )?code"
_VERIFICATION_CODE = re.compile(
    rf"({_CODE_LABEL}){_SEPARATOR}(?P<value>[0-9]{{4,8}})(?![0-9])", re.IGNORECASE
)
_PASSWORD = re.compile(
    rf"(密码|(?<![a-z])password){_SEPARATOR}(?P<value>[0-9A-Za-z]{{4,20}})(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_LABELLED_NUMBER = re.compile(
    r"(?:sn|机身号|序列号|编号|单号|运单号?|快递号)(?:是|为|:|：|\s)*[0-9A-Za-z\s\-]+",
    re.IGNORECASE,
)
SECRET_KINDS = ("id_number", "card_number", "verification_code", "password")


def secret_spans(text: str) -> list[tuple[str, int, int]]:
    """Where `text` gives a secret away: (kind, start, end) of the value itself, in text order.

    The label stays outside the span ("验证码是" of "验证码是483920"). An 18-digit ID number is
    not also a card number, nor is a long serial or waybill number typed after its label
    ("SN 8800123456789012").
    """
    found = [("id_number", *match.span()) for match in _ID_NUMBER.finditer(text)]
    taken = [(start, end) for _, start, end in found]
    taken += [match.span() for match in _LABELLED_NUMBER.finditer(text)]
    for match in _CARD_NUMBER.finditer(text):
        start, end = match.span()
        if not any(start < taken_end and end > taken_start for taken_start, taken_end in taken):
            found.append(("card_number", start, end))
    for kind, pattern in (("verification_code", _VERIFICATION_CODE), ("password", _PASSWORD)):
        found += [(kind, *match.span("value")) for match in pattern.finditer(text)]
    return sorted(found, key=lambda span: span[1])


def disclosed_secrets(text: str) -> list[str]:
    """The kinds of secret `text` gives away (card or ID number, code, password), each once."""
    kinds = {kind for kind, _, _ in secret_spans(text)}
    return [kind for kind in SECRET_KINDS if kind in kinds]


def _mask_card_number(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group(0))
    return f"************{digits[-4:]}"


def mask_text(text: str) -> str:
    """Masks every phone, ID and card number, verification code and password inside free text."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}***********{m.group(2)}", text)
    text = _CARD_NUMBER.sub(_mask_card_number, text)
    text = _VERIFICATION_CODE.sub(lambda m: f"{m.group(1)}******", text)
    text = _PASSWORD.sub(lambda m: f"{m.group(1)}******", text)
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

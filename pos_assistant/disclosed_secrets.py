"""Secrets a user gives away in a message: card and ID numbers, verification codes, passwords.

The NLU cuts them out of the (already normalized, half-width) text (see secret_spans()), and
`disclosed_secrets` names what a message gives away, so the assistant can tell the user not to.
Masking for logs and transcripts is in privacy.py.

Every pattern here is linear in the length of the text (tests/unit/test_regex_linear.py).
"""

from __future__ import annotations

import re

from pos_assistant.number_labels import label_alternatives

# Lookarounds instead of \b: \b never fires between a Chinese character and a digit.
# One optional space or dash between digits: people type long numbers in groups of 4 or 6-8-4.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{2})(?:[\s\-]?[0-9]){11}[\s\-]?([0-9]{3}[0-9Xx])(?![0-9A-Za-z])"
)
_CARD_NUMBER = re.compile(r"(?<![0-9])[0-9](?:[\s\-]?[0-9]){15,18}(?![0-9])")
# Between a label and its value; bounded, so a label followed by a long run of spaces costs no
# more than a short one.
_SEPARATOR = r"(?:是|为|:|：|is|\s){0,8}"
# English "code" alone is an SMS code only when it is not a terminal's "error code 1234".
CODE_LABEL = (
    label_alternatives("verification_code")
    + r"|(?<![a-z])(?<!error )(?:verification |sms |otp )?code"
)
_VERIFICATION_CODE = re.compile(
    rf"({CODE_LABEL}){_SEPARATOR}(?P<value>[0-9]{{4,8}})(?![0-9])", re.IGNORECASE
)
_PASSWORD = re.compile(
    rf"(密码|(?<![a-z])password){_SEPARATOR}(?P<value>[0-9A-Za-z]{{4,20}})(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_LABELLED_NUMBER = re.compile(
    rf"(?:sn|{label_alternatives('device_serial')}|编号|{label_alternatives('waybill')})"
    r"(?:是|为|:|：|\s){0,8}[0-9A-Za-z\s\-]+",
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

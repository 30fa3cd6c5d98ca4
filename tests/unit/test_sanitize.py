"""strip_control_characters: what reaches a staff member's terminal from user text."""

from __future__ import annotations

import unicodedata

import pytest

from pos_assistant.staff.sanitize import strip_control_characters


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31;1m红色\x1b[0m", "红色"),
        ("标题\x1b]0;owned\x07后", "标题后"),
        ("标题\x1b]8;;http://evil\x1b\\链接", "标题链接"),
        ("a\rb\x08c\x07d\x00e\x7f", "abcde"),
        ("\x9b2J清屏", "清屏"),
        ("\u202e1234\u202c \u2066x\u2069 \u200f", "1234 x "),
        ("行1\n\t行2", "行1\n\t行2"),
        ("末尾的 ESC \x1b", "末尾的 ESC "),
        ("\x1b[" + "9" * 100 + "m后", "后"),
        ("\u2028分隔\u2029", "分隔"),
        ("普通中文 ABC 123 ￥59", "普通中文 ABC 123 ￥59"),
    ],
)
def test_control_characters_and_escape_sequences_are_removed(raw: str, expected: str) -> None:
    cleaned = strip_control_characters(raw)
    assert cleaned == expected
    assert all(ch.isprintable() or ch in "\n\t" for ch in cleaned)


def test_one_line_values_lose_their_newlines_and_tabs() -> None:
    assert strip_control_characters("a\nb\tc\r\n", keep_newlines=False) == "a b c "


def test_no_control_character_survives_anywhere_in_the_bmp() -> None:
    everything = "".join(chr(code) for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF)
    cleaned = strip_control_characters(everything)
    for character in cleaned:
        category = unicodedata.category(character)
        assert category not in ("Cc", "Zl", "Zp") or character in "\n\t", hex(ord(character))
        assert not 0x202A <= ord(character) <= 0x202E and not 0x2066 <= ord(character) <= 0x2069
    assert "中" in cleaned and "A" in cleaned


def test_long_hostile_input_is_cleaned_in_linear_time() -> None:
    # A million unterminated sequences: the same work per character, no backtracking blow-up.
    text = "\x1b[" + "1;" * 500_000 + "\x1b]" + "x" * 500_000
    assert strip_control_characters(text) == ""

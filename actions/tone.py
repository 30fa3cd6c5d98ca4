"""A word for the feeling before the answer, when an angry message still asks something.

"你们这什么破助手！！押金到底退不退" gets "让您着急了…" and then the deposit questions, instead of
the questions alone. Said by action_validate_slot_mappings (actions/every_message.py) before
whatever answers the message. The words are in data/tone.yml.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from rasa_sdk import Tracker

from actions.memory import readable
from actions.tracker_reading import latest_text

TONE_FILE = Path(__file__).resolve().parent.parent / "data" / "tone.yml"
ANGER_RESPONSE = "utter_sorry_for_the_anger"
FRUSTRATION_FLAG = "frustration_detected"
# Letters or CJK characters: without them the message is emoji or punctuation alone.
_WORD_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
# Emoji of anger: the gentle question keeps the offer of a person.
_ANGRY_EMOJI = ("😡", "🤬", "😤", "💢", "👿", "😠")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def angry_words() -> tuple[str, ...]:
    raw = yaml.safe_load(TONE_FILE.read_text(encoding="utf-8")) or {}
    return tuple(str(word).lower() for word in raw.get("angry_words") or [])


def sounds_angry(text: str) -> bool:
    compact = _SPACES.sub("", text.lower())
    return any(word in (text.lower() if " " in word else compact) for word in angry_words())


def needs_word_for_anger(tracker: Tracker) -> bool:
    """An angry message with words in it, not already handed to a person as frustration."""
    text = latest_text(tracker)
    if not text or text.startswith("/") or tracker.is_paused():
        return False
    if (tracker.latest_message or {}).get(FRUSTRATION_FLAG):
        return False  # the handoff answers it, with its own apology
    readable_text = readable(text)
    return bool(_WORD_CHAR.search(readable_text)) and sounds_angry(readable_text)


def no_words(text: str | None) -> bool:
    """Emoji or punctuation only (payloads like "/affirm" are not user words either way)."""
    return bool(text) and not text.startswith("/") and not _WORD_CHAR.search(text)


def angry_emoji(text: str) -> bool:
    return any(emoji in text for emoji in _ANGRY_EMOJI)

"""A user typed their own card number, ID number, code or password: ask them not to.

SafetyGuard marks such messages with `sensitive_data` (the value itself was cut from the text the
classifier read, and the message is stored masked). The notice is given by
actions/every_message.py, before anything else answers the message.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.tracker_reading import latest_intent
from pos_assistant.situations import situations

NOTICE_RESPONSE = "utter_sensitive_data_notice"


def typed_secrets(tracker: Tracker) -> list[str]:
    """The kinds of secret the latest user message gave away, as SafetyGuard found them."""
    return list(((tracker.latest_message or {}).get("sensitive_data") or {}).get("secrets") or [])


def needs_privacy_notice(tracker: Tracker) -> bool:
    # The scam warning already says not to tell anyone, the assistant included (it is not given
    # while the conversation waits for a person).
    scam_warning_follows = latest_intent(tracker) == situations().scam.intent
    scam_warning_follows = scam_warning_follows and not tracker.is_paused()
    return bool(typed_secrets(tracker)) and not scam_warning_follows

"""The case form bends to how people talk.

- "帮我登记一下，未激活退押金的": a case request that names its category starts the form with the
  category filled (the form then asks for the phone, not the category).
Used by validate_open_case_form (actions/case_forms.py); corrections at the confirmation are in
actions/summary_corrections.py.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet

from actions.tracker_reading import latest_intent, latest_text
from pos_assistant.cases.labels import load_case_labels
from pos_assistant.situations import situations

REQUESTS_FILE = Path(__file__).resolve().parent.parent / "data" / "case_requests.yml"
CASE_FORM = "open_case_form"
OPEN_CASE_INTENT = "open_case"


@lru_cache(maxsize=1)
def _words() -> dict[str, tuple[str, ...]]:
    raw = yaml.safe_load(REQUESTS_FILE.read_text(encoding="utf-8")) or {}
    return {
        key: tuple(str(word).lower() for word in raw.get(key) or []) for key in ("request_words",)
    }


def _request_words() -> tuple[str, ...]:
    return _words()["request_words"]


def asks_for_a_case(text: str) -> bool:
    lowered = text.lower()
    compact = re.sub(r"\s+", "", lowered)
    return any(w in (lowered if " " in w else compact) for w in _request_words())


def case_instead_of_advice(tracker: Tracker, situation: str | None) -> list[EventType]:
    """ "帮我登记一下，未激活退押金的" read as the situation: the case form, category filled."""
    text = latest_text(tracker)
    if not situation or situation == situations().scam.code or text.startswith("/"):
        return []  # after a scam warning its own steps come first (110, freezing the card)
    if not asks_for_a_case(text):
        return []
    return [SlotSet("case_category", situation), FollowupAction(CASE_FORM)]


def category_named_in_request(tracker: Tracker) -> str | None:
    """The category a case request names ("帮我登记一下，未激活退押金的"), if it names one."""
    text = latest_text(tracker)
    if latest_intent(tracker) != OPEN_CASE_INTENT or text.startswith("/"):
        return None
    category = load_case_labels().category_from_text(text)
    return None if category == "other" else category


def situation_interrupted_by_case_form(tracker: Tracker) -> str | None:
    """The situation whose questions were started before the case form, if any.

    "我要退钱 马上" in the middle of the unordered-device questions starts the case form before
    any advice was given (so the `situation` slot is still empty): the category is that situation.
    The summary shows it and the user can still correct it.
    """
    form_by_name = {entry.form: entry.code for entry in situations().entries}
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") in form_by_name:
            return form_by_name[event["name"]]
    return None

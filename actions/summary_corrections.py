"""A correction at the case confirmation changes that line of the summary, which is shown again.

"类别错了，应该是赠品没寄", "电话错了 是137…", "描述写错了，应该是…", "运单号应该是SF…",
"序列号不对，是…": the line the message names (data/case_requests.yml `summary_fields`) gets the
value after "应该是 / 改成 / 是…"; a line named without a usable value ("描述写错了") is asked for
again. The form then shows the summary again instead of starting over.
Used by validate_open_case_form (actions/case_forms.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.case_form_bends import REQUESTS_FILE
from actions.tracker_reading import EXTRA_SLOTS, latest_entities, latest_text
from pos_assistant.cases.identifiers import find_phone, mask_numbers_in_text, normalize_phone
from pos_assistant.cases.labels import load_case_labels

CORRECTED_RESPONSE = "utter_case_field_corrected"
EXTRA_INFO_SLOT = "case_extra_info"
# Punctuation and filler between the marker and the new value ("应该是：…", "是，…").
_LEADING = re.compile(r"^[\s，,。.:：、；;“”\"'！!]+|[\s。.！!]+$")
_SERIAL = re.compile(r"(?=[A-Za-z0-9]{0,19}\d)[A-Za-z0-9]{8,20}")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
MIN_DESCRIPTION_CHARS = 4
MAX_BRAND_CHARS = 20


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    raw = yaml.safe_load(REQUESTS_FILE.read_text(encoding="utf-8")) or {}
    return {
        "correction": tuple(str(w).lower() for w in raw.get("correction_words") or []),
        # A bare "是" names no correction on its own ("是" is the yes to the summary).
        "new_value": tuple(str(w).lower() for w in raw.get("new_value_words") or []),
        "fields": {
            slot: tuple(str(w).lower() for w in words)
            for slot, words in (raw.get("summary_fields") or {}).items()
        },
    }


def new_value_part(text: str) -> str | None:
    """What follows the first listed new-value word's last occurrence, None without one."""
    lowered = text.lower()
    for marker in _table()["new_value"]:
        at = lowered.rfind(marker)
        if at != -1:
            return _LEADING.sub("", text[at + len(marker) :])
    return None


def says_something_is_wrong(text: str) -> bool:
    lowered = re.sub(r"\s+", "", text.lower())
    markers = _table()["correction"] + tuple(w for w in _table()["new_value"] if len(w) > 1)
    return any(marker in lowered for marker in markers)


def named_fields(text: str) -> list[str]:
    lowered = text.lower()
    return [slot for slot, words in _table()["fields"].items() if any(w in lowered for w in words)]


def _entity(tracker: Tracker, name: str) -> str | None:
    return next(
        (str(e.get("value")) for e in latest_entities(tracker) if e.get("entity") == name), None
    )


def _value_for(slot: str, text: str, tracker: Tracker) -> Any:
    """The new value the message gives for `slot`, or None when it gives none that fits."""
    value = new_value_part(text)
    if slot == "case_category":
        return load_case_labels().category_from_text(value or text)
    if slot == "phone_number":
        return find_phone(text)
    found = None if slot == "case_description" else _entity(tracker, slot)
    if found or value is None:
        return found
    if slot == "case_description":
        return mask_numbers_in_text(value)[:2000] if len(value) >= MIN_DESCRIPTION_CHARS else None
    if slot in ("tracking_number", "device_sn"):
        match = _SERIAL.search(value)
        return match.group(0).upper() if match else None
    if slot == "amount":
        match = _NUMBER.search(value)
        return match.group(0) if match else None
    if slot == "brand":
        return value if 0 < len(value) <= MAX_BRAND_CHARS else None
    return None


def summary_corrections(tracker: Tracker) -> dict[str, Any]:
    """The summary lines the latest message corrects, as slot values (None: ask again)."""
    text = latest_text(tracker)
    if not text or text.startswith("/"):
        return {}
    changes: dict[str, Any] = {}
    phone = find_phone(text)
    if "phone_number" in tracker.slots_to_validate():
        changes["phone_number"] = tracker.get_slot("phone_number")  # taken from the message
    elif phone and phone != normalize_phone(tracker.get_slot("phone_number")):
        changes["phone_number"] = phone
    for slot in EXTRA_SLOTS:
        found = _entity(tracker, slot)
        if found and slot != "brand":  # "SF1234…" alone replaces the waybill
            changes[slot] = found
    if not says_something_is_wrong(text):
        return changes
    fields = named_fields(text)
    for slot in fields:
        if slot in changes:
            continue
        value = _value_for(slot, text, tracker)
        if slot in ("case_category", "phone_number") and value is None:
            continue  # the category / phone question would start over; keep the line
        changes[slot] = value
        if slot in EXTRA_SLOTS and value is None:
            changes[EXTRA_INFO_SLOT] = None  # the extra information is asked for again
    if not fields:
        category = load_case_labels().category_from_text(new_value_part(text) or text)
        if category:  # "错了，应该是赠品没寄": the only line a bare value can be
            changes["case_category"] = category
    return {
        slot: value
        for slot, value in changes.items()
        if value is None or value != tracker.get_slot(slot) or slot in tracker.slots_to_validate()
    }


def corrections_at_confirmation(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any] | None:
    """The fields a reply to the summary corrects, with the confirmation asked again; None when
    the reply corrects nothing (then it is read as yes / no)."""
    changes = summary_corrections(tracker)
    if not changes:
        return None
    if all(value is not None for value in changes.values()):
        dispatcher.utter_message(response=CORRECTED_RESPONSE)
    return {**changes, "case_confirmed": None}

"""No personal number, code or password is stored readable, however it was typed.

Seeded random sentences (tests/security/number_forms.py: ASCII, full-width and Chinese-numeral
digits, mixed, in any grouping, +86 prefixes, codes and passwords after their labels) go through
the real MaskingSQLTrackerStore on a temporary SQLite file as user texts, parse data and entity
values, bot texts and buttons, metadata and slot values. Every string of every stored row is then
searched for the secret; and the slots come back intact when the tracker is loaded again.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant.privacy import mask_text
from pos_assistant.tracker_store import ENCRYPTED_PREFIX, MaskingSQLTrackerStore
from tests.e2e.stack import PROJECT_ROOT
from tests.security.number_forms import Written, leaks, written_numbers

CASES = 600
SEED = 1212
NUMBER_KINDS = ("phone", "id_number", "card_number")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def _store(domain: Domain, path: Path) -> MaskingSQLTrackerStore:
    return MaskingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(path), encryption_key=Fernet.generate_key().decode()
    )


def _events(written: Written) -> list[Any]:
    # A code or password is only recognisable after its label: alone, "8651" is any number.
    value = written.raw if written.kind in NUMBER_KINDS else written.text
    entity = {"entity": "phone_number", "value": value, "start": 0, "end": len(value)}
    parse_data = {
        "text": written.text,
        "intent": {"name": "inform", "confidence": 0.9},
        "entities": [entity],
    }
    return [
        UserUttered(
            written.text,
            parse_data["intent"],
            [entity],
            parse_data,
            metadata={"note": written.text, "message_id": "m1"},
        ),
        BotUttered(
            f"您说的是{value}吗？",
            data={"buttons": [{"title": value, "payload": "/affirm"}]},
        ),
        SlotSet("phone_number", value),
        SlotSet("case_description", written.text),
        SlotSet("case_lookup_last4", written.raw[-4:]),
        # Not a personal slot by name, but the value gives a number away: encrypted too.
        SlotSet("device_sn", value),
        ActionExecuted("action_listen"),
    ]


# Written by the clock, not from anything the user typed: "1796305572.184875" holds the code
# 4875 by chance (a CI run failed on exactly that).
CLOCK_FIELDS = frozenset({"timestamp"})


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            if key not in CLOCK_FIELDS:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _stored_rows(path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as connection:
        return [json.loads(data) for (data,) in connection.execute("SELECT data FROM events")]


def _save(store: MaskingSQLTrackerStore, tracker: DialogueStateTracker) -> None:
    asyncio.run(store.save(tracker))


def test_the_generator_gives_every_secret_away_before_masking() -> None:
    # Otherwise the property below could pass on sentences that hold no secret at all.
    written = written_numbers(CASES, SEED)
    assert all(leaks(item.text, item) for item in written)
    assert {item.kind for item in written} == {
        "phone", "id_number", "card_number", "code", "password"
    }  # fmt: skip


def test_no_number_form_is_stored_unmasked(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = _store(domain, path)
    written = written_numbers(CASES, SEED)
    for index, item in enumerate(written):
        tracker = DialogueStateTracker.from_events(f"rest:user{index}", _events(item))
        _save(store, tracker)
    rows = _stored_rows(path)
    assert len(rows) == len(written) * 7
    leaked = []
    for row_index, row in enumerate(rows):
        item = written[row_index // 7]
        leaked += [
            (item.kind, item.text, text)
            for text in _strings(row)
            # Fernet ciphertext is random base64: its digits can spell a short code by chance
            # (a fresh-clone run stored "...1105051539" for the code 0505). Encrypted slots are
            # checked by decrypting them, below.
            if not text.startswith(ENCRYPTED_PREFIX) and leaks(text, item)
        ]
    assert leaked == [], leaked[:10]


def test_personal_slots_are_encrypted_and_come_back_intact(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = _store(domain, path)
    written = written_numbers(50, SEED + 1)
    for index, item in enumerate(written):
        _save(store, DialogueStateTracker.from_events(f"rest:u{index}", _events(item)))
    stored_slots = [row for row in _stored_rows(path) if row["event"] == "slot"]
    assert stored_slots and all(row["value"].startswith(ENCRYPTED_PREFIX) for row in stored_slots)
    for index, item in enumerate(written):
        tracker = asyncio.run(store.retrieve(f"rest:u{index}"))
        assert tracker is not None
        value = item.raw if item.kind in NUMBER_KINDS else item.text
        assert tracker.get_slot("phone_number") == value
        assert tracker.get_slot("case_description") == item.text
        assert tracker.get_slot("case_lookup_last4") == item.raw[-4:]
        # The transcript itself stays masked when read back.
        assert tracker.latest_message.text == mask_text(item.text)


def test_slots_from_another_key_are_reset_not_crashing(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    events = _events(written_numbers(1, SEED)[0])
    _save(_store(domain, path), DialogueStateTracker.from_events("rest:u", events))
    tracker = asyncio.run(_store(domain, path).retrieve("rest:u"))  # a new random key
    assert tracker is not None and tracker.get_slot("phone_number") is None


def test_slots_without_personal_data_stay_readable(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    events = [SlotSet("case_number", "CS2611220007"), SlotSet("brand", "拉卡拉")]
    events.append(SlotSet("amount", "299"))
    _save(_store(domain, path), DialogueStateTracker.from_events("rest:u", events))
    assert [row.get("value") for row in _stored_rows(path)] == ["CS2611220007", "拉卡拉", "299"]

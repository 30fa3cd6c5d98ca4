"""The tracker store's cache: every read gives what a full read of the database gives, and a
turn reads only the rows written since the previous one."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant.tracker_cache import CachedSession, SessionCache
from pos_assistant.tracker_store import MaskingSQLTrackerStore
from tests.e2e.stack import PROJECT_ROOT
from tests.unit.tracker_states import full_state, turns

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def _store(domain: Domain, path: Path) -> MaskingSQLTrackerStore:
    return MaskingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(path), encryption_key=KEY)


def _retrieve(store: MaskingSQLTrackerStore, sender: str) -> DialogueStateTracker | None:
    return asyncio.run(store.retrieve(sender))


def _uncached(domain: Domain, path: Path, sender: str) -> DialogueStateTracker:
    tracker = _retrieve(_store(domain, path), sender)  # a new store: nothing cached
    assert tracker is not None
    return tracker


class CountingStore(MaskingSQLTrackerStore):
    """Counts the stored rows it decodes."""

    decoded = 0

    def _stored_event(self, data: str) -> dict:
        self.decoded += 1
        return super()._stored_event(data)


def _talk(store: MaskingSQLTrackerStore, sender: str, events: list) -> None:
    tracker = _retrieve(store, sender) or DialogueStateTracker(sender, store.domain.slots)
    for event in events:
        tracker.update(event)
    asyncio.run(store.save(tracker))


def test_every_turn_reads_what_a_full_read_gives_and_only_new_rows(
    domain: Domain, tmp_path: Path
) -> None:
    path = tmp_path / "tracker.db"
    store = CountingStore(domain=domain, dialect="sqlite", db=str(path), encryption_key=KEY)
    stored = 0
    for number, turn in enumerate(turns()):
        _talk(store, "rest:u", turn)
        decoded_before = store.decoded
        cached = _retrieve(store, "rest:u")
        assert cached is not None
        assert full_state(cached, domain) == full_state(_uncached(domain, path, "rest:u"), domain)
        if number:  # after the first read: only this turn's rows, not the whole conversation
            assert store.decoded - decoded_before == len(turn)
        stored += len(turn)
    assert stored > 40


def test_a_changed_read_tracker_does_not_change_the_cache(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = _store(domain, path)
    for turn in turns()[:3]:
        _talk(store, "rest:u", turn)
    tracker = _retrieve(store, "rest:u")
    assert tracker is not None
    tracker.update(SlotSet("situation", "gift_not_mailed"))  # never saved
    tracker.update(UserUttered("不保存", {"name": "deny", "confidence": 1.0}))
    again = _retrieve(store, "rest:u")
    assert again is not None and again.get_slot("situation") == "unordered_device"
    assert full_state(again, domain) == full_state(_uncached(domain, path, "rest:u"), domain)


def test_rows_written_by_another_process_are_read(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    mine, other = _store(domain, path), _store(domain, path)
    all_turns = turns()
    _talk(mine, "rest:u", all_turns[0])
    _talk(mine, "rest:u", all_turns[1])
    _talk(other, "rest:u", all_turns[2])  # the other Rasa process answered this turn
    tracker = _retrieve(mine, "rest:u")
    assert tracker is not None
    assert full_state(tracker, domain) == full_state(_uncached(domain, path, "rest:u"), domain)
    assert tracker.latest_message.text == "押金多少"


def test_deleted_rows_are_noticed(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = _store(domain, path)
    for turn in turns()[:3]:
        _talk(store, "rest:u", turn)
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM events WHERE type_name = 'slot'")
    tracker = _retrieve(store, "rest:u")
    assert tracker is not None and tracker.get_slot("situation") is None
    assert full_state(tracker, domain) == full_state(_uncached(domain, path, "rest:u"), domain)


def test_a_new_session_starts_the_tracker_again(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = _store(domain, path)
    for turn in turns()[:3]:
        _talk(store, "rest:u", turn)
    _talk(
        store,
        "rest:u",
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
    )
    tracker = _retrieve(store, "rest:u")
    assert tracker is not None
    assert [event.type_name for event in tracker.events] == ["session_started", "action"]
    assert full_state(tracker, domain) == full_state(_uncached(domain, path, "rest:u"), domain)


def _session(size: int, domain: Domain) -> CachedSession:
    events = [ActionExecuted("action_listen") for _ in range(size)]
    tracker = DialogueStateTracker.from_events("u", events, domain.slots)
    return CachedSession(
        first_row_id=1, last_row_id=size, session_start=None, rows=size, tracker=tracker
    )


def test_the_cache_is_bounded_by_events_least_recently_used_first(domain: Domain) -> None:
    cache = SessionCache(max_events=10)
    cache.put("a", _session(4, domain))
    cache.put("b", _session(4, domain))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", _session(4, domain))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.events == 8
    cache.put("huge", _session(11, domain))
    assert cache.get("huge") is None and cache.events == 8

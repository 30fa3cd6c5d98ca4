"""What the tracker store writes: exactly the rows Rasa's own save writes, without counting the
session's stored rows first, on a SQLite file in write-ahead-log mode."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event as sa_event

from pos_assistant.past_states import STORED_EVENTS_ATTRIBUTE
from pos_assistant.tracker_store import MaskingSQLTrackerStore
from tests.e2e.stack import PROJECT_ROOT
from tests.unit.tracker_states import turns

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


class CountlessStore(MaskingSQLTrackerStore):
    """Records whether Rasa's count of the session's rows was used."""

    counted = 0

    def _additional_events(self, session, tracker):  # type: ignore[no-untyped-def]
        self.counted += 1
        return super()._additional_events(session, tracker)


class UpstreamStore(MaskingSQLTrackerStore):
    """Always Rasa's way: count the stored rows, write the tracker's events after them."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        if hasattr(tracker, STORED_EVENTS_ATTRIBUTE):
            delattr(tracker, STORED_EVENTS_ATTRIBUTE)
        await super().save(tracker)


def _stored_rows(path: Path) -> list[tuple[str, str | None, str | None]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT type_name, intent_name, action_name FROM events ORDER BY id"
        ).fetchall()


def _talk(store: MaskingSQLTrackerStore, conversation: list[list]) -> None:
    for turn in conversation:
        tracker = asyncio.run(store.retrieve("rest:u")) or DialogueStateTracker(
            "rest:u", store.domain.slots
        )
        for event in turn:
            tracker.update(event)
        asyncio.run(store.save(tracker))


def _conversation_with_a_new_session() -> list[list]:
    # The session expires inside a turn: Rasa appends the new session's events to the tracker
    # that still holds the old session, and saves once.
    all_turns = turns()
    restart = [ActionExecuted("action_session_start"), SessionStarted()]
    return [*all_turns[:3], restart + all_turns[1], *all_turns[2:4]]


def test_saves_write_the_same_rows_as_rasas_count_based_save(
    domain: Domain, tmp_path: Path
) -> None:
    ours, upstream = tmp_path / "ours.db", tmp_path / "upstream.db"
    store = CountlessStore(domain=domain, dialect="sqlite", db=str(ours), encryption_key=KEY)
    conversation = _conversation_with_a_new_session()
    _talk(store, conversation)
    _talk(
        UpstreamStore(domain=domain, dialect="sqlite", db=str(upstream), encryption_key=KEY),
        conversation,
    )
    assert _stored_rows(ours) == _stored_rows(upstream)
    assert len(_stored_rows(ours)) == sum(len(turn) for turn in conversation)
    assert store.counted == 1  # only the very first save, of a tracker not read from the store


def test_saving_the_same_tracker_twice_writes_its_events_once(
    domain: Domain, tmp_path: Path
) -> None:
    path = tmp_path / "tracker.db"
    store = MaskingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(path), encryption_key=KEY
    )
    _talk(store, turns()[:2])
    tracker = asyncio.run(store.retrieve("rest:u"))
    assert tracker is not None
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))
    assert len(_stored_rows(path)) == len(turns()[0]) + len(turns()[1]) + 1


def test_the_sqlite_file_is_in_write_ahead_log_mode(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = MaskingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(path), encryption_key=KEY
    )
    _talk(store, turns()[:1])
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_turns_reuse_the_open_sqlite_connections(domain: Domain, tmp_path: Path) -> None:
    store = MaskingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), encryption_key=KEY
    )
    opened: list[object] = []
    sa_event.listen(store.engine, "connect", lambda connection, _record: opened.append(connection))
    _talk(store, turns())
    assert len(opened) == 1  # one connection for every read and save of the conversation

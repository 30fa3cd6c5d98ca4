"""Case-store calls end after CASE_STORE_TIMEOUT_SECONDS whatever the database does: locked
(SQLite, PostgreSQL), hung (a call that never returns), with a bounded number at once."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pos_assistant.cases import provider
from pos_assistant.cases.deadline import DeadlineStore, StoreDeadline
from pos_assistant.cases.errors import StoreUnavailable
from pos_assistant.cases.store import CaseStore
from pos_assistant.settings import get_settings
from tests.pg import new_database, postgres_server_url  # noqa: F401  (fixture)

TIMEOUT = 0.5
# Far below the 30 s SQLite busy wait and the minutes a hung server can take: the call ended
# because of its own deadline, not because the database gave up.
ENDED_WELL_BEFORE = 10


def queue_handoff(store: CaseStore, conversation: str) -> None:
    store.handoffs.enqueue(conversation, channel="rest", summary="转人工")


@pytest.fixture
def deadline() -> Iterator[StoreDeadline]:
    running = StoreDeadline(TIMEOUT, threads=1)
    yield running
    running.shutdown()


def test_a_call_that_never_returns_ends_with_store_unavailable_and_a_queued_one_never_runs(
    deadline: StoreDeadline,
) -> None:
    release = threading.Event()
    ran: list[str] = []
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        deadline.call(release.wait)  # as a hung server would: holds the only thread
    with pytest.raises(StoreUnavailable):
        deadline.call(ran.append, "queued")  # waits for a thread past its deadline
    assert time.monotonic() - started < ENDED_WELL_BEFORE
    release.set()
    time.sleep(0.2)
    assert ran == []  # given up on while still queued: it never ran
    assert deadline.call(ran.append, "later") is None and ran == ["later"]


def test_the_store_and_its_handoff_queue_go_through_the_deadline(
    tmp_path: Path, deadline: StoreDeadline
) -> None:
    raw = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    raw.list_cases()  # the schema first: creating it may take longer than the deadline
    store = DeadlineStore(raw, deadline)
    calls: list[str] = []
    original = deadline.call
    deadline.call = lambda function, *a, **k: (
        calls.append(function.__name__)
        or original(  # type: ignore[method-assign]
            function, *a, **k
        )
    )
    assert store.list_cases() == []
    queue_handoff(store, "rest:deadline")  # type: ignore[arg-type]
    assert calls == ["list_cases", "enqueue"]
    assert store.database is store.unwrapped.database  # plain attributes pass through


def test_the_provider_store_has_the_deadline_of_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "cases.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("CASE_STORE_TIMEOUT_SECONDS", str(TIMEOUT))
    get_settings.cache_clear()
    provider.get_case_store.cache_clear()
    try:
        store = provider.get_case_store()
        assert store.list_cases() == []  # the first call creates the schema
        lock = sqlite3.connect(database, isolation_level=None, timeout=1)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                queue_handoff(store, "rest:locked")
            assert time.monotonic() - started < ENDED_WELL_BEFORE
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        queue_handoff(store, "rest:locked")  # and once the lock is gone it works
        assert [r.conversation_id for r in store.handoffs.list()] == ["rest:locked"]
    finally:
        provider.get_case_store.cache_clear()
        get_settings.cache_clear()


@pytest.mark.postgres
def test_a_locked_postgresql_table_ends_the_call_after_the_timeout(
    postgres_server_url: str,  # noqa: F811
) -> None:
    url = new_database(postgres_server_url)
    store = CaseStore(url, timeout_seconds=TIMEOUT, pool_size=2)
    store.list_cases()  # schema in place
    locker = create_engine(url, future=True)
    try:
        with locker.connect() as connection, connection.begin():
            connection.execute(text("LOCK TABLE handoff_requests IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                queue_handoff(store, "rest:pg-locked")
            assert time.monotonic() - started < ENDED_WELL_BEFORE
        queue_handoff(store, "rest:pg-locked")
        assert len(store.handoffs.list()) == 1
    finally:
        locker.dispose()
        store.dispose()

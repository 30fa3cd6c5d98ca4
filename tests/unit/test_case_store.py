"""CaseStore against SQLite and (when the binaries exist) a throwaway PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from pos_assistant.cases.errors import (
    CaseNotFound,
    CaseNotOpen,
    HandoffNotFound,
    InvalidCaseData,
    InvalidStatusTransition,
    LookupLocked,
    StoreUnavailable,
    VerificationFailed,
)
from pos_assistant.cases.models import Base
from pos_assistant.cases.records import NewCase
from pos_assistant.cases.store import CaseStore
from tests.pg import new_database, postgres_server_url  # noqa: F401  (fixture)


class FakeClock:
    """A settable UTC clock so day boundaries and lock expiry are tested without waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.now += timedelta(**delta)


# 2026-11-25 17:30 UTC is already 2026-11-26 01:30 in China: case numbers use the local date.
START = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'cases.db'}"
    return new_database(request.getfixturevalue("postgres_server_url"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def store_factory(database_url: str, clock: FakeClock) -> Iterator[Callable[[], CaseStore]]:
    created: list[CaseStore] = []

    def make() -> CaseStore:
        store = CaseStore(database_url, clock=clock)
        created.append(store)
        return store

    yield make
    for store in created:
        store.dispose()


@pytest.fixture
def store(store_factory: Callable[[], CaseStore]) -> CaseStore:
    return store_factory()


def new_case(key: str = "conv-1:run-1", **overrides: str) -> NewCase:
    values = {
        "category": "gift_not_mailed",
        "contact_phone": "138 1234 5678",
        "description": "办机时承诺的赠品一直没寄",
        "channel": "rest",
        "channel_user_id": "user-a",
        "idempotency_key": key,
        **overrides,
    }
    return NewCase(**values)


# ---------------------------------------------------------------- schema


def test_first_use_migrates_an_empty_database_to_the_models(
    store: CaseStore, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # script_location comes from the package, not the cwd
    store.list_cases()
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert {"cases", "case_events", "case_number_counters", "lookup_guards"} <= tables
            assert "handoff_requests" in tables
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert diff == [], "models and migrations drifted apart"
    finally:
        engine.dispose()


def test_a_second_store_on_a_migrated_database_does_not_migrate_again(
    store_factory: Callable[[], CaseStore],
) -> None:
    first = store_factory().create_case(new_case())
    assert store_factory().get_case(first.case_number).case_number == first.case_number


def test_constructing_a_store_does_no_io_and_failures_are_typed(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    store = CaseStore(f"sqlite:///{blocker / 'cases.db'}")  # nothing happens yet
    with pytest.raises(StoreUnavailable):
        store.list_cases()
    unreachable = CaseStore(
        "postgresql+psycopg2://nobody@127.0.0.1:1/none", connect_timeout_seconds=1
    )
    with pytest.raises(StoreUnavailable):
        unreachable.get_case("CS2611260001")


# ---------------------------------------------------------------- creating cases


def test_case_numbers_use_the_china_date_and_a_daily_sequence(
    store: CaseStore, clock: FakeClock
) -> None:
    first = store.create_case(new_case("k1"))
    second = store.create_case(new_case("k2", description="另一件事"))
    assert (first.case_number, second.case_number) == ("CS2611260001", "CS2611260002")
    clock.advance(days=1)
    assert store.create_case(new_case("k3", description="第三件")).case_number == "CS2611270001"


def test_a_created_case_keeps_what_the_user_gave(store: CaseStore) -> None:
    created = store.create_case(
        new_case(brand="拉卡拉", tracking_number="SF1234567890123", amount="299")
    )
    stored = store.get_case(created.case_number.lower())
    assert stored.contact_phone == "13812345678"
    assert stored.masked_phone == "138****5678"
    assert "13812345678" not in repr(stored)
    assert stored.status == "received"
    assert (stored.brand, stored.tracking_number, stored.amount) == (
        "拉卡拉",
        "SF1234567890123",
        "299",
    )
    assert stored.created_at.tzinfo is not None
    assert [event.kind for event in stored.events] == ["created"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"contact_phone": "12345678901"},
        {"contact_phone": "1381234567"},
        {"category": "not_a_category"},
        {"description": "   "},
    ],
)
def test_invalid_case_data_is_refused(store: CaseStore, overrides: dict[str, str]) -> None:
    with pytest.raises(InvalidCaseData):
        store.create_case(new_case(**overrides))


def test_a_double_submit_of_the_same_form_run_makes_one_case(store: CaseStore) -> None:
    first = store.create_case(new_case("conv-1:run-1"))
    again = store.create_case(new_case("conv-1:run-1", description="改了描述也还是同一次提交"))
    assert again.case_number == first.case_number
    assert len(store.list_cases()) == 1


def test_the_same_data_resubmitted_within_minutes_is_one_case(
    store: CaseStore, clock: FakeClock
) -> None:
    first = store.create_case(new_case("conv-1:run-1"))
    clock.advance(minutes=3)
    assert store.create_case(new_case("conv-1:run-2")).case_number == first.case_number
    clock.advance(minutes=30)
    assert store.create_case(new_case("conv-1:run-3")).case_number != first.case_number


def test_concurrent_creation_never_repeats_a_number(
    store_factory: Callable[[], CaseStore],
) -> None:
    # Two stores = two engines, like two action-server processes on one database.
    stores = [store_factory(), store_factory()]
    stores[0].list_cases()  # migrate once up front; the race under test is numbering

    def create(index: int) -> str:
        return (
            stores[index % 2]
            .create_case(new_case(f"conv-{index}", description=f"并发第{index}件"))
            .case_number
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(40)))
    assert len(set(numbers)) == 40
    assert sorted(numbers) == [f"CS261126{value:04d}" for value in range(1, 41)]


def test_concurrent_double_submits_make_one_case(store: CaseStore) -> None:
    store.list_cases()
    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = set(
            pool.map(lambda _: store.create_case(new_case("same-run")).case_number, range(6))
        )
    assert len(numbers) == 1
    assert len(store.list_cases()) == 1


def test_concurrent_first_use_of_an_empty_database_migrates_once(
    store_factory: Callable[[], CaseStore],
) -> None:
    stores = [store_factory() for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda store: store.list_cases(), stores))
    assert results == [[], [], [], []]


# ---------------------------------------------------------------- status and notes


def test_status_changes_follow_the_allowed_path_and_keep_a_timeline(store: CaseStore) -> None:
    number = store.create_case(new_case()).case_number
    store.change_status(number, "in_progress", note="已联系服务商核实", author="agent-1")
    store.change_status(number, "awaiting_info", note="请补充快递单号")
    store.add_note(number, "内部备注：服务商电话已记录", public=False)
    case = store.change_status(number, "resolved", note="服务商已补寄赠品")
    assert case.status == "resolved"
    assert [e.to_status for e in case.events if e.kind == "status"] == [
        "in_progress",
        "awaiting_info",
        "resolved",
    ]
    assert case.latest_public_note == "服务商已补寄赠品"
    store.change_status(number, "closed")
    with pytest.raises(InvalidStatusTransition):
        store.change_status(number, "in_progress")
    with pytest.raises(InvalidCaseData):
        store.change_status(number, "处理完了")


def test_private_notes_are_never_the_latest_public_note(store: CaseStore) -> None:
    number = store.create_case(new_case()).case_number
    store.add_note(number, "给用户看的说明")
    case = store.add_note(number, "只给客服看的备注", public=False)
    assert case.latest_public_note == "给用户看的说明"


def test_users_can_add_notes_only_to_open_cases(store: CaseStore) -> None:
    number = store.create_case(new_case()).case_number
    store.add_note(number, "补充单号 SF1234567890123", author="user", require_open=True)
    store.change_status(number, "closed")
    with pytest.raises(CaseNotOpen):
        store.add_note(number, "再补充", author="user", require_open=True)


def test_unknown_case_numbers_raise_case_not_found(store: CaseStore) -> None:
    with pytest.raises(CaseNotFound):
        store.get_case("CS2611269999")
    with pytest.raises(CaseNotFound):
        store.change_status("CS2611269999", "in_progress")


def test_listing_by_status_and_by_channel_user(store: CaseStore) -> None:
    first = store.create_case(new_case("k1")).case_number
    store.create_case(new_case("k2", description="别人的", channel_user_id="user-b"))
    store.change_status(first, "in_progress")
    assert [c.case_number for c in store.list_cases(status="in_progress")] == [first]
    assert [c.case_number for c in store.cases_opened_by("rest", "user-a")] == [first]
    assert store.cases_opened_by("wechat", "user-a") == []


# ---------------------------------------------------------------- verification and lockout


def test_the_opener_is_verified_without_an_answer(store: CaseStore) -> None:
    number = store.create_case(new_case()).case_number
    assert store.is_owner(number, "rest", "user-a")
    assert not store.is_owner(number, "rest", "someone-else")
    assert store.verify_last4(number, "", "rest", "user-a").case_number == number


def test_the_right_last4_verifies_a_new_sender(store: CaseStore) -> None:
    number = store.create_case(new_case()).case_number
    assert store.verify_last4(number, "5678", "rest", "stranger").case_number == number


def _three_wrong_answers(store: CaseStore, number: str) -> list[object]:
    outcomes: list[object] = []
    for sender in ("s1", "s2", "s3"):  # a new sender each time must not reset the count
        try:
            store.verify_last4(number, "0000", "rest", sender)
        except (VerificationFailed, LookupLocked) as error:
            outcomes.append((type(error).__name__, getattr(error, "remaining_attempts", None)))
    return outcomes


def test_three_wrong_answers_lock_the_number_for_everyone_for_15_minutes(
    store: CaseStore, clock: FakeClock
) -> None:
    number = store.create_case(new_case()).case_number
    assert _three_wrong_answers(store, number) == [
        ("VerificationFailed", 2),
        ("VerificationFailed", 1),
        ("LookupLocked", None),
    ]
    with pytest.raises(LookupLocked):
        store.verify_last4(number, "5678", "rest", "brand-new-sender")
    with pytest.raises(LookupLocked):
        store.ensure_not_locked(number)
    clock.advance(minutes=14)
    with pytest.raises(LookupLocked):
        store.verify_last4(number, "5678", "rest", "brand-new-sender")
    clock.advance(minutes=2)
    store.ensure_not_locked(number)
    assert store.verify_last4(number, "5678", "rest", "brand-new-sender").case_number == number


def test_unknown_numbers_answer_exactly_like_wrong_answers(store: CaseStore) -> None:
    known = store.create_case(new_case()).case_number
    unknown = "CS2611269999"
    assert _three_wrong_answers(store, unknown) == _three_wrong_answers(store, known)
    with pytest.raises(LookupLocked):
        store.ensure_not_locked(unknown)


def test_the_lock_is_kept_in_the_database_not_in_the_process(
    store_factory: Callable[[], CaseStore],
) -> None:
    first = store_factory()
    number = first.create_case(new_case()).case_number
    _three_wrong_answers(first, number)
    with pytest.raises(LookupLocked):
        store_factory().verify_last4(number, "5678", "rest", "other-process-sender")


def test_concurrent_wrong_answers_cannot_exceed_the_limit(store: CaseStore) -> None:
    number = store.create_case(new_case()).case_number

    def attempt(index: int) -> str:
        try:
            store.verify_last4(number, "0000", "rest", f"sender-{index}")
        except (VerificationFailed, LookupLocked) as error:
            return type(error).__name__
        return "verified"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert outcomes.count("VerificationFailed") == 2
    assert outcomes.count("LookupLocked") == 4


# ---------------------------------------------------------------- handoff queue


def test_handoff_enqueue_is_idempotent_per_open_request(store: CaseStore) -> None:
    first = store.enqueue_handoff(
        "conv-9", channel="rest", summary="用户说：收到没买的POS机", category="unordered_device"
    )
    again = store.enqueue_handoff("conv-9", channel="rest", summary="第二次")
    assert again.summary == first.summary
    assert [r.conversation_id for r in store.list_waiting()] == ["conv-9"]


def test_handoff_take_and_release(store: CaseStore) -> None:
    store.enqueue_handoff("conv-1", channel="rest", summary="a", case_number="cs2611260001")
    store.enqueue_handoff("conv-2", channel="wechat", summary="b")
    taken = store.take_handoff("conv-1", "agent-7")
    assert (taken.status, taken.taken_by, taken.case_number) == ("taken", "agent-7", "CS2611260001")
    assert [r.conversation_id for r in store.list_waiting()] == ["conv-2"]
    released = store.release_handoff("conv-1")
    assert released.status == "released"
    with pytest.raises(HandoffNotFound):
        store.release_handoff("conv-1")
    with pytest.raises(HandoffNotFound):
        store.take_handoff("never-queued", "agent-7")
    # After a release the same conversation may ask for a human again.
    assert store.enqueue_handoff("conv-1", channel="rest", summary="c").status == "waiting"


def test_concurrent_enqueues_of_one_conversation_make_one_request(store: CaseStore) -> None:
    store.list_waiting()
    with ThreadPoolExecutor(max_workers=5) as pool:
        list(
            pool.map(
                lambda i: store.enqueue_handoff("conv-x", channel="rest", summary=str(i)), range(5)
            )
        )
    assert len(store.list_handoffs(("waiting", "taken", "released"))) == 1

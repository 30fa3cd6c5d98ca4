"""CaseStore against SQLite and (when the binaries exist) a throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from pos_assistant.cases import store as store_module
from pos_assistant.cases.errors import (
    AccessDenied,
    CaseNotFound,
    CaseNotOpen,
    HandoffNotFound,
    InvalidCaseData,
    InvalidStatusTransition,
    LookupLocked,
    RateLimited,
    StoreUnavailable,
    VerificationFailed,
)
from pos_assistant.cases.identifiers import has_valid_check_digit, normalize_case_number
from pos_assistant.cases.records import NewCase
from pos_assistant.cases.store import CaseStore
from pos_assistant.db import Base
from pos_assistant.nlu.id_patterns import find_ids
from pos_assistant.rate_limits import AbuseLimits
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
            assert {"cases", "case_events", "lookup_guards", "case_verifications"} <= tables
            assert "rate_counters" in tables and "case_number_counters" not in tables
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
    unreachable = CaseStore("postgresql+psycopg2://nobody@127.0.0.1:1/none", timeout_seconds=1)
    with pytest.raises(StoreUnavailable):
        unreachable.get_case("CS2611260001")


# ---------------------------------------------------------------- creating cases


def test_case_numbers_are_random_with_a_check_digit_and_keep_their_shape(
    store: CaseStore,
) -> None:
    numbers = [
        store.create_case(
            new_case(f"k{index}", description=f"第{index}件", channel_user_id=f"user-{index}")
        ).case_number
        for index in range(30)
    ]
    assert len(set(numbers)) == 30
    for number in numbers:
        assert re.fullmatch(r"CS\d{10}", number) and has_valid_check_digit(number)
    # Not sequential: no two of them are near neighbours (random over 10^9: p < 1e-5).
    values = sorted(int(number[2:]) for number in numbers)
    assert min(b - a for a, b in itertools.pairwise(values)) > 10
    # The NLU and the lookup form read the new numbers as case numbers.
    [found] = [e for e in find_ids(f"查询进度 {numbers[0]}") if e.entity == "case_number"]
    assert found.value == numbers[0] == normalize_case_number(numbers[0].lower())


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
            .create_case(
                new_case(
                    f"conv-{index}", description=f"并发第{index}件", channel_user_id=f"u-{index}"
                )
            )
            .case_number
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(40)))
    assert len(set(numbers)) == 40
    assert len(stores[0].list_cases()) == 40


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
    assert store.cases_opened_by("user-a") == []  # not a trusted identity
    wechat = store.create_case(new_case("k3", description="微信的", channel_user_id="wx:o1"))
    assert [c.case_number for c in store.cases_opened_by("wx:o1")] == [wechat.case_number]
    assert store.cases_opened_by("rest:wx:o1") == []
    assert store.cases_opened_by("web:o1") == []


# ---------------------------------------------------------------- verification and lockout


def test_only_a_trusted_opener_is_recognised(store: CaseStore) -> None:
    wechat = store.create_case(new_case(channel_user_id="wx:o-opener")).case_number
    rest = store.create_case(new_case("k2", channel_user_id="rest:o-opener")).case_number
    assert store.is_opener(wechat, "wx:o-opener")
    assert not store.is_opener(wechat, "rest:wx:o-opener")
    assert not store.is_opener(wechat, "wx:someone-else")
    assert not store.is_opener(rest, "rest:o-opener")  # a REST sender proves nothing
    assert store.recognise_opener(wechat, "wx:o-opener")
    assert not store.recognise_opener(rest, "rest:o-opener")
    assert not store.recognise_opener("CS0000000000", "wx:o-opener")


def test_the_right_last4_verifies_a_new_sender(store: CaseStore) -> None:
    number = store.create_case(new_case()).case_number
    with pytest.raises(AccessDenied):
        store.verified_case(number, "rest:stranger")
    assert store.verify_last4(number, "5678", "rest:stranger").case_number == number
    assert store.verified_case(number, "rest:stranger").case_number == number


def _three_wrong_answers(store: CaseStore, number: str) -> list[object]:
    outcomes: list[object] = []
    for sender in ("s1", "s2", "s3"):  # a new sender each time must not reset the count
        try:
            store.verify_last4(number, "0000", sender)
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
        store.verify_last4(number, "5678", "brand-new-sender")
    with pytest.raises(LookupLocked):
        store.ensure_not_locked(number)
    clock.advance(minutes=14)
    with pytest.raises(LookupLocked):
        store.verify_last4(number, "5678", "brand-new-sender")
    clock.advance(minutes=2)
    store.ensure_not_locked(number)
    assert store.verify_last4(number, "5678", "brand-new-sender").case_number == number


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
        store_factory().verify_last4(number, "5678", "other-process-sender")


def test_concurrent_wrong_answers_cannot_exceed_the_limit(store: CaseStore) -> None:
    number = store.create_case(new_case()).case_number

    def attempt(index: int) -> str:
        try:
            store.verify_last4(number, "0000", f"sender-{index}")
        except (VerificationFailed, LookupLocked) as error:
            return type(error).__name__
        return "verified"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert outcomes.count("VerificationFailed") == 2
    assert outcomes.count("LookupLocked") == 4


# ---------------------------------------------------------------- handoff queue


def test_handoff_enqueue_is_idempotent_per_open_request(store: CaseStore) -> None:
    first = store.handoffs.enqueue(
        "conv-9", channel="rest", summary="用户说：收到没买的POS机", category="unordered_device"
    )
    again = store.handoffs.enqueue("conv-9", channel="rest", summary="第二次")
    assert again.summary == first.summary
    assert [r.conversation_id for r in store.handoffs.list()] == ["conv-9"]


def test_handoff_take_and_release(store: CaseStore) -> None:
    store.handoffs.enqueue("conv-1", channel="rest", summary="a", case_number="cs2611260001")
    store.handoffs.enqueue("conv-2", channel="wechat", summary="b")
    taken = store.handoffs.take("conv-1", "agent-7")
    assert (taken.status, taken.taken_by, taken.case_number) == ("taken", "agent-7", "CS2611260001")
    assert [r.conversation_id for r in store.handoffs.list()] == ["conv-2"]
    released = store.handoffs.release("conv-1")
    assert released.status == "released"
    with pytest.raises(HandoffNotFound):
        store.handoffs.release("conv-1")
    with pytest.raises(HandoffNotFound):
        store.handoffs.take("never-queued", "agent-7")
    # After a release the same conversation may ask for a human again.
    assert store.handoffs.enqueue("conv-1", channel="rest", summary="c").status == "waiting"


def test_concurrent_enqueues_of_one_conversation_make_one_request(store: CaseStore) -> None:
    store.handoffs.list()
    with ThreadPoolExecutor(max_workers=5) as pool:
        list(
            pool.map(
                lambda i: store.handoffs.enqueue("conv-x", channel="rest", summary=str(i)), range(5)
            )
        )
    assert len(store.handoffs.list(("waiting", "taken", "released"))) == 1


# ---------------------------------------------------------------- verification recorded here


def test_a_verification_expires_and_is_per_conversation(
    store_factory: Callable[[], CaseStore], clock: FakeClock
) -> None:
    store = store_factory()
    number = store.create_case(new_case(channel_user_id="rest:opener")).case_number
    # The conversation that opened it is verified for it, for a while.
    assert store.verified_case(number, "rest:opener").case_number == number
    store.verify_last4(number, "5678", "rest:asker")
    with pytest.raises(AccessDenied):
        store.verified_case(number, "rest:someone-else")
    # Kept in the database: another process sees it.
    assert store_factory().verified_case(number, "rest:asker").case_number == number
    clock.advance(minutes=29)
    store.add_user_note(number, "快递单号 SF1234567890123", "rest:asker")
    clock.advance(minutes=2)
    for conversation in ("rest:asker", "rest:opener"):
        with pytest.raises(AccessDenied):
            store.verified_case(number, conversation)
        with pytest.raises(AccessDenied):
            store.add_user_note(number, "再补充", conversation)
    assert store.forget_expired_verifications() == 2


def test_unknown_numbers_are_refused_like_unverified_ones(store: CaseStore) -> None:
    with pytest.raises(AccessDenied):
        store.verified_case("CS0000000000", "wx:o1")
    with pytest.raises(AccessDenied):
        store.add_user_note("CS0000000000", "补充", "wx:o1")


def test_a_trusted_opener_needs_no_verification_record(store: CaseStore, clock: FakeClock) -> None:
    number = store.create_case(new_case(channel_user_id="wx:o-opener")).case_number
    clock.advance(days=30)
    assert store.verified_case(number, "wx:o-opener").case_number == number
    with pytest.raises(AccessDenied):
        store.verified_case(number, "rest:wx:o-opener")


# ---------------------------------------------------------------- limits per identity


def _guess(store: CaseStore, number: str, conversation: str, address: str | None = None) -> str:
    try:
        store.verify_last4(number, "0000", conversation, address)
    except (VerificationFailed, LookupLocked) as error:
        return type(error).__name__
    return "verified"


def test_one_conversation_cannot_keep_guessing_across_case_numbers(
    store: CaseStore, clock: FakeClock
) -> None:
    real = store.create_case(new_case()).case_number
    outcomes = [_guess(store, f"CS{index:010d}", "rest:guesser") for index in range(6)]
    assert outcomes == ["VerificationFailed"] * 5 + ["LookupLocked"]
    # Now even the right answer for a real case is refused, with the locked answer.
    with pytest.raises(LookupLocked):
        store.verify_last4(real, "5678", "rest:guesser")
    with pytest.raises(LookupLocked):
        store.ensure_not_locked(real, "rest:guesser")
    store.ensure_not_locked(real, "rest:another")  # the number itself is not locked
    clock.advance(minutes=61)
    assert store.verify_last4(real, "5678", "rest:guesser").case_number == real


def test_one_client_address_cannot_guess_by_changing_conversations(
    database_url: str, clock: FakeClock
) -> None:
    store = CaseStore(database_url, clock=clock, limits=AbuseLimits(lookup_failures_per_address=6))
    real = store.create_case(new_case()).case_number
    outcomes = [
        _guess(store, f"CS{index:010d}", f"rest:sender-{index}", "203.0.113.7")
        for index in range(6)
    ]
    assert outcomes[-1] == "LookupLocked" and outcomes[:5] == ["VerificationFailed"] * 5
    with pytest.raises(LookupLocked):
        store.verify_last4(real, "5678", "rest:fresh-sender", "203.0.113.7")
    assert store.verify_last4(real, "5678", "rest:fresh-sender", "198.51.100.1")
    store.dispose()


def test_locked_unknown_and_wrong_are_indistinguishable_per_identity(store: CaseStore) -> None:
    real = store.create_case(new_case()).case_number
    for index in range(5):
        _guess(store, f"CS{index:010d}", "rest:a")
        _guess(store, real if index < 2 else f"CS1{index:09d}", "rest:b")
    assert _guess(store, "CS9999999999", "rest:a") == _guess(store, real, "rest:b")


# ---------------------------------------------------------------- creation and handoff limits


def test_case_creation_is_limited_per_conversation_and_per_address(
    store_factory: Callable[[], CaseStore], database_url: str, clock: FakeClock
) -> None:
    store = CaseStore(
        database_url,
        clock=clock,
        limits=AbuseLimits(cases_per_conversation=2, cases_per_address=3, window_minutes=60),
    )
    try:
        for index in range(2):
            store.create_case(new_case(f"a{index}", description=f"事情{index}"))
        # A double submit is not a new case and is not counted.
        store.create_case(new_case("a1", description="事情1"))
        with pytest.raises(RateLimited) as refused:
            store.create_case(new_case("a2", description="事情2"))
        assert refused.value.retry_at == START + timedelta(minutes=60)
        assert len(store.list_cases()) == 2
        for index in range(3):
            store.create_case(
                new_case(f"b{index}", description=f"b{index}", channel_user_id=f"rest:b{index}"),
                client_address="203.0.113.9",
            )
        with pytest.raises(RateLimited):
            store.create_case(
                new_case("b9", description="b9", channel_user_id="rest:b9"),
                client_address="203.0.113.9",
            )
        clock.advance(minutes=61)
        store.create_case(new_case("a3", description="事情3"))
    finally:
        store.dispose()


def test_handoffs_are_limited_per_conversation_and_per_address(
    database_url: str, clock: FakeClock
) -> None:
    store = CaseStore(
        database_url,
        clock=clock,
        limits=AbuseLimits(handoffs_per_conversation=2, handoffs_per_address=3),
    )
    try:
        for _ in range(2):
            store.handoffs.enqueue("rest:c1", channel="rest", summary="x")
            store.handoffs.enqueue("rest:c1", channel="rest", summary="again, still open")
            store.handoffs.release("rest:c1")
        with pytest.raises(RateLimited):
            store.handoffs.enqueue("rest:c1", channel="rest", summary="x")
        for index in range(3):
            store.handoffs.enqueue(
                f"rest:d{index}", channel="rest", summary="x", client_address="a"
            )
        with pytest.raises(RateLimited):
            store.handoffs.enqueue("rest:d9", channel="rest", summary="x", client_address="a")
        assert len(store.handoffs.list()) == 3
    finally:
        store.dispose()


def test_a_number_already_taken_is_drawn_again(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No counter to run out: numbers are drawn at random and a clash is simply drawn again.
    first = store.create_case(new_case("k1")).case_number
    draws = iter([first, first, "CS0000000000"])
    monkeypatch.setattr(store_module, "new_case_number", lambda: next(draws))
    second = store.create_case(new_case("k2", description="另一件事", channel_user_id="u2"))
    assert second.case_number == "CS0000000000"
    assert len(store.list_cases()) == 2

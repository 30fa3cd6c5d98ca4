"""Faults of the production stores, against the real servers configured as in production
(endpoints.production.yml): conversations in PostgreSQL, the lock store in Redis, cases in a
PostgreSQL server of their own. The case database's PostgreSQL stopped and started; Redis
stopped and started; a client that gives up before the answer. Each checks what the user sees
and that no user message or handoff request is lost or doubled.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.test_conversation_flows import staff
from tests.faults.stack import FaultStack, production_fault_stack
from tests.faults.test_faults import (
    APOLOGY,
    FIRST_QUESTION,
    SECOND_QUESTION,
    UNORDERED_DEVICE,
    user_texts,
)
from tests.pg import (
    PostgresServer,
    new_database,
    postgres_server_url,  # noqa: F401  (fixture)
    require_postgres_bin_dir,
)
from tests.redis_server import RedisServer, require_redis_binary

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

# utter_handoff_unavailable (its general variant): the case database's own apology for a handoff.
HANDOFF_UNAVAILABLE = "人工客服暂时接不进来"
HANDOFF_QUEUED = "转接人工客服"


@pytest.fixture(scope="module")
def case_database() -> Iterator[PostgresServer]:
    server = PostgresServer(require_postgres_bin_dir(), max_connections=30)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(require_redis_binary())
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server_url: str,  # noqa: F811
    case_database: PostgresServer,
    redis_server: RedisServer,
) -> Iterator[FaultStack]:
    running = production_fault_stack(
        tmp_path_factory.mktemp("production-faults"),
        tracker_db_url=new_database(postgres_server_url),
        redis_port=redis_server.port,
        case_db_url=new_database(case_database.url),
    )
    try:
        running.actions.start(timeout=120)
        running.rasa.start(timeout=300)
        yield running
    finally:
        running.rasa.stop()
        running.actions.stop()


def queued_conversations(stack: FaultStack) -> list[str]:
    """The conversation of every handoff request, open or closed, once per request."""
    listing = staff(stack, "handoff", "list", "--all").splitlines()
    return [line.split()[0] for line in listing if line.split()[:1] and ":" in line.split()[0]]


def test_the_case_database_stopped_only_the_turns_that_need_it_apologise_and_nothing_is_lost(
    stack: FaultStack, case_database: PostgresServer, sender: str
) -> None:
    before, other = f"{sender}-before", f"{sender}-other"
    assert HANDOFF_QUEUED in stack.texts(before, "转人工")
    case_database.stop(fast=True)  # as `systemctl stop postgresql`
    try:
        needing_it = stack.texts(sender, "转人工")
        # Another user's turn that needs no case database is answered as usual.
        not_needing_it = stack.texts(other, UNORDERED_DEVICE)
    finally:
        case_database.start()
    # The handoff's own apology, at once: not the general one after the action timeout.
    assert HANDOFF_UNAVAILABLE in needing_it and APOLOGY not in needing_it, needing_it
    assert FIRST_QUESTION in not_needing_it, not_needing_it
    # Back: asking again works; the request made before the stop is still there, none doubled.
    assert HANDOFF_QUEUED in stack.texts(sender, "转人工")
    assert SECOND_QUESTION in stack.texts(other, "没有")
    queued = queued_conversations(stack)
    assert queued.count(f"rest:{before}") == 1 and queued.count(f"rest:{sender}") == 1, queued
    assert user_texts(stack, sender) == ["转人工", "转人工"]
    assert user_texts(stack, other) == [UNORDERED_DEVICE, "没有"]
    assert user_texts(stack, before) == ["转人工"]


def test_redis_stopped_the_conversation_goes_on_and_every_message_is_kept_once(
    stack: FaultStack, redis_server: RedisServer, sender: str
) -> None:
    assert FIRST_QUESTION in stack.texts(sender, UNORDERED_DEVICE)
    redis_server.stop()
    try:
        stopped_reply = stack.texts(sender, "没有")
    finally:
        redis_server.start()
    # Nothing for the user to notice: the form's next question, then the form's end (advice).
    assert SECOND_QUESTION in stopped_reply, stopped_reply
    last_reply = stack.texts(sender, "没有")
    assert last_reply and SECOND_QUESTION not in last_reply and APOLOGY not in last_reply
    assert user_texts(stack, sender) == [UNORDERED_DEVICE, "没有", "没有"]


def test_a_message_whose_client_gave_up_is_still_answered_into_the_conversation_once(
    stack: FaultStack, sender: str
) -> None:
    body = {"sender": sender, "message": UNORDERED_DEVICE}
    stack.actions.hang()  # a slow turn (Rasa waits ACTION_TIMEOUT_SECONDS for the action server)
    try:
        with pytest.raises(httpx.TimeoutException):  # the page closed before the answer came
            httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=1)
        deadline = time.monotonic() + 60
        while not any(APOLOGY in text for text in bot_texts(stack, sender)):
            assert time.monotonic() < deadline, "the abandoned turn was never finished"
            time.sleep(0.5)
    finally:
        stack.actions.resume()
    # The turn was finished (with the apology: the action server did not answer) and saved.
    assert FIRST_QUESTION in stack.texts(sender, UNORDERED_DEVICE)
    assert user_texts(stack, sender) == [UNORDERED_DEVICE, UNORDERED_DEVICE]


def bot_texts(stack: FaultStack, sender: str) -> list[str]:
    events = stack.tracker(sender)["events"]
    return [event.get("text") or "" for event in events if event["event"] == "bot"]

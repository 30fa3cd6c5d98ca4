"""The outbox on a real SQLite database (migrated by Alembic) and its worker against the WeChat API
stand-in: once per key, leases, retries with backoff, part-by-part resumption, refusals marked
failed and shown by the staff tool."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pos_assistant.channels.wechat_api import ConfigurableWeChatClient, CustomerServiceSender
from pos_assistant.channels.wechat_outbox import OutboxWorker, retry_delay
from pos_assistant.outbox import Outbox, OutboxStatus, outbox_for
from pos_assistant.staff.outbox_cli import main as outbox_cli
from tests.fakes.wechat_api import FakeWeChatApi, running_fake_wechat_api

APPID, SECRET = "wx-unit-outbox", "unit-outbox-secret"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 8, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path, clock: Clock) -> Outbox:
    real = outbox_for(f"sqlite:///{tmp_path / 'cases.db'}")
    return Outbox(real._transactions, clock=clock, lease_seconds=60)


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatApi]:
    with running_fake_wechat_api(APPID, SECRET) as api:
        yield api


def worker_for(outbox: Outbox, api: FakeWeChatApi, max_attempts: int = 5) -> OutboxWorker:
    client = ConfigurableWeChatClient(APPID, SECRET, api.url, timeout=5)
    return OutboxWorker(
        outbox, CustomerServiceSender(client), first_retry_seconds=5, max_attempts=max_attempts
    )


def contents(api: FakeWeChatApi, openid: str) -> list[str]:
    return [message["text"]["content"] for message in api.messages_to(openid)]


def test_a_key_is_added_once_and_claimed_by_one_worker_at_a_time(
    outbox: Outbox, clock: Clock
) -> None:
    assert outbox.enqueue("wechat", "o-1", ["您好"], "msg:o-1:1:late")
    assert not outbox.enqueue("wechat", "o-1", ["您好"], "msg:o-1:1:late")  # a retry
    (claimed,) = outbox.claim_due()
    assert (claimed.recipient, claimed.parts, claimed.attempts) == ("o-1", ["您好"], 1)
    assert outbox.claim_due() == []  # leased
    clock.now += timedelta(seconds=61)  # the worker died: the lease ran out
    (again,) = outbox.claim_due()
    assert again.id == claimed.id and again.attempts == 2


async def test_sent_once_after_the_api_recovers_with_backoff(
    outbox: Outbox, fake_api: FakeWeChatApi, clock: Clock
) -> None:
    worker = worker_for(outbox, fake_api)
    outbox.enqueue("wechat", "o-2", ["第一条", "第二条"], "msg:o-2:1:late")
    fake_api.failing = True
    assert await worker.run_once() == 1
    assert contents(fake_api, "o-2") == []
    assert await worker.run_once() == 0  # not due before the backoff
    clock.now += timedelta(seconds=retry_delay(5, 1))
    assert await worker.run_once() == 1  # fails again: next wait doubles
    clock.now += timedelta(seconds=retry_delay(5, 1))
    assert await worker.run_once() == 0
    clock.now += timedelta(seconds=retry_delay(5, 2))
    fake_api.failing = False
    assert await worker.run_once() == 1
    assert contents(fake_api, "o-2") == ["第一条", "第二条"]
    clock.now += timedelta(hours=1)
    assert await worker.run_once() == 0
    assert contents(fake_api, "o-2") == ["第一条", "第二条"]
    (message,) = outbox.messages(OutboxStatus.SENT.value)
    assert message.attempts == 3 and message.parts_sent == 2


async def test_a_resumed_message_starts_after_the_last_part_sent(
    outbox: Outbox, fake_api: FakeWeChatApi, clock: Clock
) -> None:
    outbox.enqueue("wechat", "o-3", ["一", "二", "三"], "msg:o-3:1:late")
    (claimed,) = outbox.claim_due()
    outbox.part_sent(claimed.id, 1)  # the first part went out, then the server died
    clock.now += timedelta(seconds=61)
    await worker_for(outbox, fake_api).run_once()
    assert contents(fake_api, "o-3") == ["二", "三"]


async def test_refused_by_wechat_is_failed_at_once_and_shown_to_staff(
    outbox: Outbox, fake_api: FakeWeChatApi
) -> None:
    openid = "oWeChatUser000004"
    fake_api.outside_window.add(openid)
    outbox.enqueue("wechat", openid, ["太晚了"], f"msg:{openid}:1:late")
    await worker_for(outbox, fake_api).run_once()
    (failed,) = outbox.messages(OutboxStatus.FAILED.value)
    assert failed.attempts == 1 and "45015" in (failed.last_error or "")
    out = io.StringIO()
    assert outbox_cli(["list", "--status", "failed"], outbox=outbox, out=out) == 0
    listing = out.getvalue()
    assert "failed" in listing and "45015" in listing and "太晚了" in listing
    assert openid not in listing  # masked


async def test_failed_after_the_last_attempt(
    outbox: Outbox, fake_api: FakeWeChatApi, clock: Clock
) -> None:
    worker = worker_for(outbox, fake_api, max_attempts=2)
    fake_api.failing = True
    outbox.enqueue("wechat", "o-5", ["您好"], "msg:o-5:1:late")
    await worker.run_once()
    clock.now += timedelta(minutes=10)
    await worker.run_once()
    (failed,) = outbox.messages(OutboxStatus.FAILED.value)
    assert failed.attempts == 2 and "errcode -1" in (failed.last_error or "")


def test_backoff_doubles_up_to_ten_minutes() -> None:
    assert [retry_delay(5, attempt) for attempt in (1, 2, 3)] == [5, 10, 20]
    assert retry_delay(5, 30) == 600


async def test_old_sent_and_failed_messages_are_deleted_pending_ones_kept(
    outbox: Outbox, fake_api: FakeWeChatApi, clock: Clock
) -> None:
    fake_api.outside_window.add("o-refused")
    outbox.enqueue("wechat", "o-sent", ["好的"], "k-sent")
    outbox.enqueue("wechat", "o-refused", ["好的"], "k-failed")
    await worker_for(outbox, fake_api).run_once()
    fake_api.failing = True
    outbox.enqueue("wechat", "o-pending", ["好的"], "k-pending")
    clock.now += timedelta(days=3)
    assert outbox.purge() == 1  # the sent one; the failed one stays for staff
    assert {m.recipient for m in outbox.messages()} == {"o-refused", "o-pending"}
    clock.now += timedelta(days=30)
    assert outbox.purge() == 1
    assert [m.recipient for m in outbox.messages()] == ["o-pending"]

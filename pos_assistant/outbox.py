"""The outbox: messages to users that go out after their turn (WeChat late replies, the rest of a
long reply, agents' replies), kept in the database until they are sent or refused.

A message is written once per key (a WeChat retry of the same user message finds the row and
adds nothing), claimed by one worker at a time with a lease (a worker that dies leaves the row
to be claimed again when the lease ends), advanced part by part (a message split into several
WeChat messages resumes after the last part sent), and ends `sent` or `failed` (WeChat refused
it, or it kept failing): staff see failed ones with `python -m pos_assistant.staff outbox list`.

One part can go out twice only if the process dies between WeChat's "ok" and the next write.
Message texts are the assistant's replies (numbers in them are already masked) or an agent's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    and_,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_assistant.db import Base, Database, as_utc, naive_utc, utc_now

Transactions = Callable[[], AbstractContextManager[Session]]

MAX_KEY_CHARS = 160
# Sent messages are kept this long (for "was it sent?"), failed ones longer (staff follow up).
KEEP_SENT = timedelta(days=2)
KEEP_FAILED = timedelta(days=30)
MAX_ERROR_CHARS = 200
LEASE_SECONDS = 60


class OutboxStatus(str, Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxRecord(Base):
    __tablename__ = "outbox_messages"

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    recipient = Column(String(128), nullable=False)
    dedupe_key = Column(String(MAX_KEY_CHARS), nullable=False, unique=True)
    parts = Column(Text, nullable=False)  # JSON list of texts, each one message
    parts_sent = Column(Integer, nullable=False, default=0)
    status = Column(String(16), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False)
    lease_until = Column(DateTime)
    last_error = Column(String(MAX_ERROR_CHARS))
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    sent_at = Column(DateTime)

    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    channel: str
    recipient: str
    parts: list[str]
    parts_sent: int
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: OutboxRecord) -> OutboxMessage:
        return cls(
            id=record.id,
            channel=record.channel,
            recipient=record.recipient,
            parts=list(json.loads(record.parts)),
            parts_sent=record.parts_sent,
            status=record.status,
            attempts=record.attempts,
            last_error=record.last_error,
            created_at=as_utc(record.created_at),
            updated_at=as_utc(record.updated_at),
        )


def _now() -> datetime:
    return naive_utc(utc_now())


class Outbox:
    """The outbox table. Thread-safe (each call is its own transaction); blocking calls."""

    def __init__(
        self,
        transactions: Transactions,
        clock: Callable[[], datetime] = _now,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._transactions = transactions
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)

    def enqueue(self, channel: str, recipient: str, parts: list[str], key: str) -> bool:
        """Adds a message; False when one with this key was added before (nothing changes)."""
        now = self._clock()
        try:
            with self._transactions() as session:
                session.add(
                    OutboxRecord(
                        channel=channel,
                        recipient=recipient,
                        dedupe_key=key[:MAX_KEY_CHARS],
                        parts=json.dumps(parts, ensure_ascii=False),
                        parts_sent=0,
                        status=OutboxStatus.PENDING.value,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def claim_due(self, limit: int = 20) -> list[OutboxMessage]:
        """Messages due now (and those whose worker's lease ran out), leased to the caller."""
        now = self._clock()
        due = or_(
            and_(
                OutboxRecord.status == OutboxStatus.PENDING.value,
                OutboxRecord.next_attempt_at <= now,
            ),
            and_(
                OutboxRecord.status == OutboxStatus.SENDING.value,
                OutboxRecord.lease_until <= now,
            ),
        )
        claimed: list[OutboxMessage] = []
        with self._transactions() as session:
            ids = session.scalars(
                select(OutboxRecord.id).where(due).order_by(OutboxRecord.id).limit(limit)
            ).all()
            for message_id in ids:
                taken = session.execute(
                    update(OutboxRecord)
                    .where(OutboxRecord.id == message_id, due)
                    .values(
                        status=OutboxStatus.SENDING.value,
                        lease_until=now + self._lease,
                        attempts=OutboxRecord.attempts + 1,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:
                    record = session.get(OutboxRecord, message_id, populate_existing=True)
                    claimed.append(OutboxMessage.from_record(record))
        return claimed

    def part_sent(self, message_id: int, parts_sent: int) -> None:
        self._set(message_id, parts_sent=parts_sent)

    def mark_sent(self, message_id: int) -> None:
        now = self._clock()
        self._set(message_id, status=OutboxStatus.SENT.value, lease_until=None, sent_at=now)

    def retry_later(self, message_id: int, error: str, delay_seconds: float) -> None:
        self._set(
            message_id,
            status=OutboxStatus.PENDING.value,
            lease_until=None,
            last_error=error[:MAX_ERROR_CHARS],
            next_attempt_at=self._clock() + timedelta(seconds=delay_seconds),
        )

    def mark_failed(self, message_id: int, error: str) -> None:
        self._set(
            message_id,
            status=OutboxStatus.FAILED.value,
            lease_until=None,
            last_error=error[:MAX_ERROR_CHARS],
        )

    def messages(self, status: str | None = None, limit: int = 50) -> list[OutboxMessage]:
        """Newest first, optionally of one status."""
        query = select(OutboxRecord).order_by(OutboxRecord.id.desc()).limit(limit)
        if status:
            query = query.where(OutboxRecord.status == status)
        with self._transactions() as session:
            return [OutboxMessage.from_record(record) for record in session.scalars(query)]

    def purge(self) -> int:
        """Deletes sent messages older than KEEP_SENT and failed ones older than KEEP_FAILED."""
        now = self._clock()
        old = or_(
            and_(
                OutboxRecord.status == OutboxStatus.SENT.value,
                OutboxRecord.updated_at < now - KEEP_SENT,
            ),
            and_(
                OutboxRecord.status == OutboxStatus.FAILED.value,
                OutboxRecord.updated_at < now - KEEP_FAILED,
            ),
        )
        with self._transactions() as session:
            result = session.execute(
                delete(OutboxRecord).where(old).execution_options(synchronize_session=False)
            )
            return result.rowcount or 0

    def _set(self, message_id: int, **values: object) -> None:
        with self._transactions() as session:
            session.execute(
                update(OutboxRecord)
                .where(OutboxRecord.id == message_id)
                .values(updated_at=self._clock(), **values)
                .execution_options(synchronize_session=False)
            )


def outbox_for(database_url: str) -> Outbox:
    """The outbox in the case database (migrated on first use, like the case store)."""
    return Outbox(Database(database_url).transaction)


def iter_parts(message: OutboxMessage) -> Iterator[tuple[int, str]]:
    """(index, text) of the parts still to send."""
    for index in range(message.parts_sent, len(message.parts)):
        yield index, message.parts[index]

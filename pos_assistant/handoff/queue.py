"""HandoffQueue: conversations waiting for a human agent, one open request per conversation.

A request is waiting, then taken by an agent, then released back to the assistant. Asking for a
human is rate-limited per conversation and per client address (pos_assistant/rate_limits.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_assistant.cases.errors import (
    HandoffNotFound,
    HandoffTakenByOther,
    RateLimited,
    StoreUnavailable,
)
from pos_assistant.cases.identifiers import normalize_case_number
from pos_assistant.db import Database, as_utc
from pos_assistant.handoff.models import HandoffRequestRecord, HandoffStatus
from pos_assistant.handoff.records import HandoffRequest
from pos_assistant.rate_limits import AbuseLimits, take_quota


class HandoffQueue:
    """Persistence of handoff requests. Thread-safe; shares the case store's database."""

    def __init__(self, database: Database, limits: AbuseLimits | None = None) -> None:
        self._database = database
        self._limits = limits or AbuseLimits()

    def enqueue(
        self,
        conversation_id: str,
        *,
        channel: str,
        summary: str,
        category: str | None = None,
        case_number: str | None = None,
        client_address: str | None = None,
    ) -> HandoffRequest:
        """Queues a conversation for a human agent; an already open request is returned as is.

        Raises RateLimited when this conversation or client address asked too often.
        """
        limits = self._limits
        quotas = [("handoffs:conversation", conversation_id, limits.handoffs_per_conversation)]
        if client_address:
            quotas.append(("handoffs:address", client_address[:256], limits.handoffs_per_address))
        for _attempt in range(3):
            try:
                with self._database.transaction() as session:
                    existing = self._open_request(session, conversation_id)
                    if existing is not None:
                        return HandoffRequest.from_record(existing)
                    now = self._database.now()
                    blocked_until = take_quota(
                        session, now, quotas, timedelta(minutes=limits.window_minutes)
                    )
                    if blocked_until is not None:
                        raise RateLimited("handoff", as_utc(blocked_until))
                    record = HandoffRequestRecord(
                        conversation_id=conversation_id[:128],
                        channel=(channel or "unknown")[:32],
                        category=category,
                        summary=summary[:1000],
                        case_number=normalize_case_number(case_number),
                        status=HandoffStatus.WAITING.value,
                        open_conversation_id=conversation_id[:128],
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(record)
                    session.flush()
                    return HandoffRequest.from_record(record)
            except IntegrityError:
                continue  # a concurrent enqueue for the same conversation won
        raise StoreUnavailable("could not queue the handoff request")

    def _open_request(self, session: Session, conversation_id: str) -> HandoffRequestRecord | None:
        return session.execute(
            select(HandoffRequestRecord)
            .where(HandoffRequestRecord.open_conversation_id == conversation_id)
            .with_for_update()
        ).scalar_one_or_none()

    def list(
        self, statuses: tuple[str, ...] = (HandoffStatus.WAITING.value,)
    ) -> list[HandoffRequest]:
        """Requests in these statuses, oldest first."""
        query = (
            select(HandoffRequestRecord)
            .where(HandoffRequestRecord.status.in_([HandoffStatus(s).value for s in statuses]))
            .order_by(HandoffRequestRecord.created_at, HandoffRequestRecord.id)
        )
        with self._database.transaction() as session:
            return [HandoffRequest.from_record(row) for row in session.execute(query).scalars()]

    def take(self, conversation_id: str, agent: str, *, reassign: bool = False) -> HandoffRequest:
        """Makes `agent` the owner. Raises HandoffTakenByOther when someone else owns it, unless
        `reassign` (a lead's decision)."""
        with self._database.transaction() as session:
            record = self._open_request(session, conversation_id)
            if record is None:
                raise HandoffNotFound(conversation_id)
            owner = record.taken_by
            if record.status == HandoffStatus.TAKEN.value and owner != agent[:64] and not reassign:
                raise HandoffTakenByOther(conversation_id, owner or "")
            record.status = HandoffStatus.TAKEN.value
            record.taken_by = agent[:64]
            record.updated_at = record.agent_active_at = self._database.now()
            session.flush()
            return HandoffRequest.from_record(record)

    def mark_agent_active(self, conversation_id: str) -> None:
        """The owner just replied: the abandoned-take clock starts again."""
        with self._database.transaction() as session:
            record = self._open_request(session, conversation_id)
            if record is not None:
                record.agent_active_at = self._database.now()

    def requeue_abandoned(self, idle: timedelta) -> list[tuple[HandoffRequest, str]]:
        """Taken conversations whose owner has not acted for `idle` go back to waiting; returns
        each with the owner who left it."""
        now = self._database.now()
        with self._database.transaction() as session:
            records = session.execute(
                select(HandoffRequestRecord)
                .where(
                    HandoffRequestRecord.status == HandoffStatus.TAKEN.value,
                    HandoffRequestRecord.agent_active_at < now - idle,
                )
                .with_for_update()
            ).scalars()
            requeued = []
            for record in records:
                owner = record.taken_by or ""
                record.status = HandoffStatus.WAITING.value
                record.taken_by = None
                record.updated_at = now
                requeued.append((HandoffRequest.from_record(record), owner))
            return requeued

    def release(self, conversation_id: str, summary: str | None = None) -> HandoffRequest:
        """Back to the assistant; `summary` (staff only, never sent) is kept with the request."""
        with self._database.transaction() as session:
            record = self._open_request(session, conversation_id)
            if record is None:
                raise HandoffNotFound(conversation_id)
            record.status = HandoffStatus.RELEASED.value
            record.release_summary = (summary or "")[:2000] or None
            record.open_conversation_id = None
            record.updated_at = self._database.now()
            session.flush()
            return HandoffRequest.from_record(record)

"""CaseStore: cases and their timeline, over the database in pos_assistant/db.py.

Who may see a case is in access.py, lookup lockout in lookup.py; the store also carries the
handoff queue (`store.handoffs`, pos_assistant/handoff/) so one object serves the actions and the
staff tool. Every database failure surfaces as `StoreUnavailable`; business outcomes have their
own errors (see errors.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_assistant.cases.access import CaseAccess, is_trusted_opener_id
from pos_assistant.cases.errors import (
    AccessDenied,
    CaseNotOpen,
    InvalidCaseData,
    InvalidStatusTransition,
    RateLimited,
    StoreUnavailable,
)
from pos_assistant.cases.identifiers import new_case_number, normalize_phone
from pos_assistant.cases.lookup import LookupLockout
from pos_assistant.cases.models import CaseEventRecord, CaseRecord, find_case, load_case
from pos_assistant.cases.records import Case, NewCase
from pos_assistant.cases.vocabulary import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    CaseCategory,
    CaseStatus,
)
from pos_assistant.db import Database, as_utc, clean_text, utc_now
from pos_assistant.handoff.queue import HandoffQueue
from pos_assistant.rate_limits import AbuseLimits, take_quota

logger = logging.getLogger(__name__)


def content_fingerprint(new_case: NewCase) -> str:
    """Same user + same submitted data → same fingerprint (finds re-submitted forms)."""
    parts = [
        new_case.channel,
        new_case.channel_user_id,
        new_case.category,
        new_case.contact_phone,
        new_case.description.strip(),
        new_case.brand or "",
        new_case.device_serial or "",
        new_case.tracking_number or "",
        new_case.amount or "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class CaseStore:
    """Persistence of cases (and, through `handoffs`, the handoff queue). Thread-safe; one
    instance per process."""

    def __init__(
        self,
        database_url: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        max_failed_attempts: int = 3,
        lock_minutes: int = 15,
        duplicate_window_minutes: int = 10,
        timeout_seconds: float | None = None,
        pool_size: int | None = None,
        limits: AbuseLimits | None = None,
    ) -> None:
        self._database = Database(
            database_url, clock=clock, timeout_seconds=timeout_seconds, pool_size=pool_size
        )
        self._limits = limits or AbuseLimits()
        self._duplicate_window = timedelta(minutes=duplicate_window_minutes)
        self._access = CaseAccess(self._database, self._limits)
        self._lookup = LookupLockout(
            self._database,
            self._access,
            self._limits,
            max_failed_attempts=max_failed_attempts,
            lock_minutes=lock_minutes,
        )
        self.handoffs = HandoffQueue(self._database, self._limits)

    @property
    def database(self) -> Database:
        """The database this store lives in, for modules that keep their own tables there (the
        agent console's accounts and audit log)."""
        return self._database

    def dispose(self) -> None:
        self._database.dispose()

    # Who may see a case (access.py) and lookups with lockout (lookup.py), documented there.

    def is_opener(self, case_number: str, conversation_id: str) -> bool:
        return self._access.is_opener(case_number, conversation_id)

    def recognise_opener(self, case_number: str, conversation_id: str) -> bool:
        return self._access.recognise_opener(case_number, conversation_id)

    def verified_case(self, case_number: str, conversation_id: str) -> Case:
        return self._access.verified_case(case_number, conversation_id)

    def forget_expired_verifications(self) -> int:
        return self._access.forget_expired_verifications()

    def ensure_not_locked(
        self,
        case_number: str,
        conversation_id: str | None = None,
        client_address: str | None = None,
    ) -> None:
        self._lookup.ensure_not_locked(case_number, conversation_id, client_address)

    def verify_last4(
        self,
        case_number: str,
        last4: str,
        conversation_id: str,
        client_address: str | None = None,
    ) -> Case:
        return self._lookup.verify_last4(case_number, last4, conversation_id, client_address)

    def create_case(self, new_case: NewCase, *, client_address: str | None = None) -> Case:
        """Writes a case and returns it; a repeated submission returns the first case instead.

        The opening conversation is verified for the case (for `verification_minutes`).
        Raises RateLimited when this conversation or client address opened too many cases.
        """
        conversation_id = new_case.channel_user_id  # uncut: the verification is for this id
        new_case = self._validated(new_case)
        fingerprint = content_fingerprint(new_case)
        limits = self._limits
        quotas = [
            ("cases:conversation", conversation_id, limits.cases_per_conversation),
        ]
        if client_address:
            quotas.append(("cases:address", client_address[:256], limits.cases_per_address))
        for _attempt in range(5):
            try:
                with self._database.transaction() as session:
                    existing = self._find_duplicate(session, new_case, fingerprint)
                    if existing is not None:
                        self._access.verify(
                            session, conversation_id, existing.case_number, "created"
                        )
                        return Case.from_record(existing)
                    now = self._database.now()
                    blocked_until = take_quota(
                        session, now, quotas, timedelta(minutes=limits.window_minutes)
                    )
                    if blocked_until is not None:
                        raise RateLimited("case creation", as_utc(blocked_until))
                    record = CaseRecord(
                        case_number=new_case_number(),
                        category=new_case.category,
                        status=CaseStatus.RECEIVED.value,
                        contact_phone=new_case.contact_phone,
                        brand=new_case.brand,
                        device_serial=new_case.device_serial,
                        tracking_number=new_case.tracking_number,
                        amount=new_case.amount,
                        description=new_case.description,
                        channel=new_case.channel,
                        channel_user_id=new_case.channel_user_id,
                        idempotency_key=new_case.idempotency_key,
                        content_fingerprint=fingerprint,
                        created_at=now,
                        updated_at=now,
                    )
                    record.events.append(
                        CaseEventRecord(
                            kind="created",
                            to_status=CaseStatus.RECEIVED.value,
                            is_public=1,
                            author="user",
                            created_at=now,
                        )
                    )
                    session.add(record)
                    session.flush()
                    self._access.verify(session, conversation_id, record.case_number, "created")
                    case = Case.from_record(record)
                logger.info(
                    "case %s opened (category=%s, phone=%s)",
                    case.case_number,
                    case.category,
                    case.masked_phone,
                )
                return case
            except IntegrityError:
                # A concurrent submit of the same form won the race (or, rarely, a random number
                # was taken already): the next attempt finds the first case or draws again.
                continue
        raise StoreUnavailable("could not write the case after several attempts")

    def _validated(self, new_case: NewCase) -> NewCase:
        phone = normalize_phone(new_case.contact_phone)
        if phone is None:
            raise InvalidCaseData("contact phone is not a mainland mobile number")
        try:
            category = CaseCategory(new_case.category).value
        except ValueError as error:
            raise InvalidCaseData(f"unknown category {new_case.category!r}") from error
        description = clean_text(new_case.description, 2000)
        if not description:
            raise InvalidCaseData("description is empty")
        if not new_case.idempotency_key or not new_case.channel_user_id:
            raise InvalidCaseData("idempotency key and channel user id are required")
        return NewCase(
            category=category,
            contact_phone=phone,
            description=description,
            channel=clean_text(new_case.channel, 32) or "unknown",
            channel_user_id=new_case.channel_user_id[:128],
            idempotency_key=hashlib.sha256(new_case.idempotency_key.encode()).hexdigest(),
            brand=clean_text(new_case.brand, 64),
            device_serial=clean_text(new_case.device_serial, 32),
            tracking_number=clean_text(new_case.tracking_number, 32),
            amount=clean_text(new_case.amount, 16),
        )

    def _find_duplicate(
        self, session: Session, new_case: NewCase, fingerprint: str
    ) -> CaseRecord | None:
        by_key = session.execute(
            select(CaseRecord).where(CaseRecord.idempotency_key == new_case.idempotency_key)
        ).scalar_one_or_none()
        if by_key is not None:
            return by_key
        since = self._database.now() - self._duplicate_window
        return (
            session.execute(
                select(CaseRecord)
                .where(CaseRecord.content_fingerprint == fingerprint)
                .where(CaseRecord.created_at >= since)
                .order_by(CaseRecord.id)
            )
            .scalars()
            .first()
        )

    def get_case(self, case_number: str) -> Case:
        with self._database.transaction() as session:
            return Case.from_record(load_case(session, case_number))

    def list_cases(self, status: str | None = None, limit: int = 200) -> list[Case]:
        query = select(CaseRecord).order_by(CaseRecord.created_at.desc(), CaseRecord.id.desc())
        if status:
            query = query.where(CaseRecord.status == CaseStatus(status).value)
        with self._database.transaction() as session:
            return [Case.from_record(row) for row in session.execute(query.limit(limit)).scalars()]

    def cases_opened_by(self, conversation_id: str) -> list[Case]:
        """The cases this conversation opened, when its id is a trusted identity (else none)."""
        if not is_trusted_opener_id(conversation_id):
            return []
        query = (
            select(CaseRecord)
            .where(CaseRecord.channel_user_id == conversation_id)
            .order_by(CaseRecord.created_at.desc(), CaseRecord.id.desc())
        )
        with self._database.transaction() as session:
            return [Case.from_record(row) for row in session.execute(query).scalars()]

    def change_status(
        self, case_number: str, new_status: str, *, note: str | None = None, author: str = "staff"
    ) -> Case:
        try:
            target = CaseStatus(new_status)
        except ValueError as error:
            raise InvalidCaseData(f"unknown status {new_status!r}") from error
        with self._database.transaction() as session:
            record = load_case(session, case_number, for_update=True)
            current = CaseStatus(record.status)
            if target not in ALLOWED_TRANSITIONS[current]:
                raise InvalidStatusTransition(current.value, target.value)
            now = self._database.now()
            record.status = target.value
            record.updated_at = now
            record.events.append(
                CaseEventRecord(
                    kind="status",
                    from_status=current.value,
                    to_status=target.value,
                    note=clean_text(note, 2000),
                    is_public=1,
                    author=author[:64],
                    created_at=now,
                )
            )
            session.flush()
            return Case.from_record(record)

    def add_note(
        self,
        case_number: str,
        note: str,
        *,
        author: str = "staff",
        public: bool = True,
        require_open: bool = False,
    ) -> Case:
        text_value = clean_text(note, 2000)
        if not text_value:
            raise InvalidCaseData("note is empty")
        with self._database.transaction() as session:
            record = load_case(session, case_number, for_update=True)
            if require_open and CaseStatus(record.status) not in OPEN_STATUSES:
                raise CaseNotOpen(record.case_number)
            now = self._database.now()
            record.updated_at = now
            record.events.append(
                CaseEventRecord(
                    kind="note",
                    note=text_value,
                    is_public=1 if public else 0,
                    author=author[:64],
                    created_at=now,
                )
            )
            session.flush()
            return Case.from_record(record)

    def add_user_note(self, case_number: str, note: str, conversation_id: str) -> Case:
        """A user's note on an open case this conversation is verified for (staff-only note)."""
        text_value = clean_text(note, 2000)
        if not text_value:
            raise InvalidCaseData("note is empty")
        with self._database.transaction() as session:
            record = find_case(session, case_number, for_update=True)
            if record is None or not self._access.has_access(session, record, conversation_id):
                raise AccessDenied(str(case_number)[:16])
            if CaseStatus(record.status) not in OPEN_STATUSES:
                raise CaseNotOpen(record.case_number)
            now = self._database.now()
            record.updated_at = now
            record.events.append(
                CaseEventRecord(
                    kind="note", note=text_value, is_public=0, author="user", created_at=now
                )
            )
            session.flush()
            return Case.from_record(record)

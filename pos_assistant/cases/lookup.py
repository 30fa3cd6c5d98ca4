"""Case lookup by number + last four phone digits, with lockout.

Too many wrong answers lock the number (existing or not) for everyone; a conversation or client
address that fails too often across numbers is locked out too. A wrong answer and an unknown
number give the same error, so an unverified person cannot learn which numbers exist.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_assistant.cases.access import CaseAccess
from pos_assistant.cases.errors import CaseStoreError, LookupLocked, VerificationFailed
from pos_assistant.cases.identifiers import normalize_case_number
from pos_assistant.cases.models import LookupGuard, find_case
from pos_assistant.cases.records import Case
from pos_assistant.db import Database, as_utc
from pos_assistant.rate_limits import AbuseLimits, counter_of, identities, take_quota

logger = logging.getLogger(__name__)


class LookupLockout:
    """Verifies lookups and counts failures per number and per identity. Thread-safe."""

    def __init__(
        self,
        database: Database,
        access: CaseAccess,
        limits: AbuseLimits,
        *,
        max_failed_attempts: int,
        lock_minutes: int,
    ) -> None:
        self._database = database
        self._access = access
        self._limits = limits
        self._max_failed_attempts = max_failed_attempts
        self._lock_duration = timedelta(minutes=lock_minutes)

    def ensure_not_locked(
        self,
        case_number: str,
        conversation_id: str | None = None,
        client_address: str | None = None,
    ) -> None:
        """Raises LookupLocked while lookups of this number (existing or not) are locked, or
        while the asking conversation or client address has used up its failed lookups."""
        normalized = normalize_case_number(case_number) or str(case_number)[:16]
        with self._database.transaction() as session:
            now = self._database.now()
            guard = session.get(LookupGuard, normalized)
            if guard is not None and guard.locked_until and guard.locked_until > now:
                raise LookupLocked(normalized, as_utc(guard.locked_until))
            if conversation_id is not None:
                until = self._identity_blocked_until(session, conversation_id, client_address)
                if until is not None:
                    raise LookupLocked(normalized, as_utc(until))

    def verify_last4(
        self,
        case_number: str,
        last4: str,
        conversation_id: str,
        client_address: str | None = None,
    ) -> Case:
        """The case when `last4` ends its contact phone; records the conversation as verified.

        Raises VerificationFailed for a wrong answer AND for an unknown number, so an unverified
        person cannot learn whether a number exists; LookupLocked after too many failures for
        this number, or for this conversation or client address across all numbers.
        """
        normalized = normalize_case_number(case_number) or str(case_number)[:16]
        outcome: Case | CaseStoreError
        with self._database.transaction() as session:
            record = find_case(session, normalized)
            guard = self._guard_for_update(session, normalized)
            now = self._database.now()
            identity_until = self._identity_blocked_until(session, conversation_id, client_address)
            if guard.locked_until and guard.locked_until > now:
                outcome = LookupLocked(normalized, as_utc(guard.locked_until))
            elif identity_until is not None:
                outcome = LookupLocked(normalized, as_utc(identity_until))
            elif record is not None and str(last4) == record.contact_phone[-4:]:
                guard.failed_attempts = 0
                guard.locked_until = None
                guard.updated_at = now
                self._access.verify(session, conversation_id, record.case_number, "last4")
                outcome = Case.from_record(record)
            else:
                outcome = self._count_failure(session, guard, conversation_id, client_address)
        if isinstance(outcome, CaseStoreError):
            raise outcome  # raised after the commit, so the counted failure is kept
        return outcome

    def _count_failure(
        self,
        session: Session,
        guard: LookupGuard,
        conversation_id: str,
        client_address: str | None,
    ) -> CaseStoreError:
        now = self._database.now()
        if guard.updated_at < now - self._lock_duration:
            guard.failed_attempts = 0  # old failures do not add up forever
        guard.failed_attempts += 1
        guard.updated_at = now
        window = timedelta(minutes=self._limits.lookup_identity_window_minutes)
        quotas = [
            (f"lookup:{kind}", value, self._lookup_limit(kind))
            for kind, value in identities(conversation_id, client_address)
        ]
        take_quota(session, now, quotas, window, count_when_full=False)
        identity_until = self._identity_blocked_until(session, conversation_id, client_address)
        if guard.failed_attempts >= self._max_failed_attempts:
            guard.failed_attempts = 0
            guard.locked_until = now + self._lock_duration
            logger.warning("lookups of case number %s locked after failures", guard.case_number)
            return LookupLocked(guard.case_number, as_utc(guard.locked_until))
        if identity_until is not None:
            logger.warning("an identity used up its failed case lookups")
            return LookupLocked(guard.case_number, as_utc(identity_until))
        return VerificationFailed(self._max_failed_attempts - guard.failed_attempts)

    def _lookup_limit(self, kind: str) -> int:
        if kind == "address":
            return self._limits.lookup_failures_per_address
        return self._limits.lookup_failures_per_conversation

    def _identity_blocked_until(
        self, session: Session, conversation_id: str, client_address: str | None
    ) -> datetime | None:
        """When the asker may look up again, or None while it has failed lookups left."""
        window = timedelta(minutes=self._limits.lookup_identity_window_minutes)
        now = self._database.now()
        latest: datetime | None = None
        for kind, value in identities(conversation_id, client_address):
            counter = counter_of(session, f"lookup:{kind}", value)
            if (
                counter is not None
                and counter.window_started > now - window
                and counter.count >= self._lookup_limit(kind)
            ):
                until = counter.window_started + window
                latest = until if latest is None or until > latest else latest
        return latest

    def _guard_for_update(self, session: Session, case_number: str) -> LookupGuard:
        query = select(LookupGuard).where(LookupGuard.case_number == case_number).with_for_update()
        guard = session.execute(query).scalar_one_or_none()
        if guard is not None:
            return guard
        try:
            with session.begin_nested():
                session.add(
                    LookupGuard(
                        case_number=case_number, failed_attempts=0, updated_at=self._database.now()
                    )
                )
        except IntegrityError:
            pass  # a concurrent request created it first
        return session.execute(query).scalar_one()

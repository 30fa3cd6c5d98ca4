"""Who may see and add to a case: its opener (a trusted identity), or a conversation recorded as
verified for it (right last four phone digits, or opened it) until the verification expires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_assistant.cases.errors import AccessDenied
from pos_assistant.cases.models import CaseRecord, CaseVerification, find_case
from pos_assistant.cases.records import Case
from pos_assistant.db import Database, identity_hash
from pos_assistant.identity import trusted_identity
from pos_assistant.rate_limits import AbuseLimits

_MAX_CONVERSATION_ID = 128  # longer ids are never case openers (the column would cut them)


def is_trusted_opener_id(conversation_id: str) -> bool:
    """Only a trusted identity (widget session, WeChat openid) can be recognised as an opener."""
    return (
        bool(conversation_id)
        and len(conversation_id) <= _MAX_CONVERSATION_ID
        and trusted_identity(conversation_id) is not None
    )


def is_opened_by(record: CaseRecord, conversation_id: str) -> bool:
    """True when this conversation opened the case AND its id is a trusted identity.

    A REST sender (or any id without a trusted channel prefix) never counts: its owner
    typed it, so it proves nothing about who is asking.
    """
    return is_trusted_opener_id(conversation_id) and record.channel_user_id == conversation_id


class CaseAccess:
    """Records and checks "this conversation may see this case". Thread-safe."""

    def __init__(self, database: Database, limits: AbuseLimits) -> None:
        self._database = database
        self._limits = limits

    def is_opener(self, case_number: str, conversation_id: str) -> bool:
        """True when this conversation opened the case AND its id is a trusted identity."""
        if not is_trusted_opener_id(conversation_id):
            return False
        with self._database.transaction() as session:
            record = find_case(session, case_number)
            return record is not None and is_opened_by(record, conversation_id)

    def recognise_opener(self, case_number: str, conversation_id: str) -> bool:
        """Records the verification when the opener (a trusted identity) asks about its case."""
        if not is_trusted_opener_id(conversation_id):
            return False
        with self._database.transaction() as session:
            record = find_case(session, case_number)
            if record is None or not is_opened_by(record, conversation_id):
                return False
            self.verify(session, conversation_id, record.case_number, "opener")
            return True

    def verified_case(self, case_number: str, conversation_id: str) -> Case:
        """The case, when this conversation is verified for it (recorded here, not expired).

        Raises AccessDenied otherwise, also for numbers that do not exist.
        """
        with self._database.transaction() as session:
            record = find_case(session, case_number)
            if record is None or not self.has_access(session, record, conversation_id):
                raise AccessDenied(str(case_number)[:16])
            return Case.from_record(record)

    def has_access(self, session: Session, record: CaseRecord, conversation_id: str) -> bool:
        if is_opened_by(record, conversation_id):
            return True
        verification = session.get(
            CaseVerification, (identity_hash(conversation_id), record.case_number)
        )
        return verification is not None and verification.expires_at > self._database.now()

    def verify(self, session: Session, conversation_id: str, case_number: str, method: str) -> None:
        """Records (or renews) "this conversation may see this case" until the expiry."""
        now = self._database.now()
        key = (identity_hash(conversation_id), case_number)
        expires = now + timedelta(minutes=self._limits.verification_minutes)
        existing = session.get(CaseVerification, key)
        if existing is not None:
            existing.method, existing.verified_at, existing.expires_at = method, now, expires
            return
        try:
            with session.begin_nested():
                session.add(
                    CaseVerification(
                        conversation_hash=key[0],
                        case_number=case_number,
                        method=method,
                        verified_at=now,
                        expires_at=expires,
                    )
                )
        except IntegrityError:
            pass  # a concurrent request of the same conversation recorded it first

    def forget_expired_verifications(self) -> int:
        """Deletes expired verifications (they already grant nothing); returns how many."""
        with self._database.transaction() as session:
            result = session.execute(
                delete(CaseVerification).where(CaseVerification.expires_at <= self._database.now())
            )
            return int(result.rowcount or 0)

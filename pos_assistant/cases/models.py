"""Database tables of cases, their timeline, lookup lockout and verifications (SQLAlchemy 1.4,
portable SQL only; the engine and migrations are in pos_assistant/db.py)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Session, relationship

from pos_assistant.cases.errors import CaseNotFound
from pos_assistant.cases.identifiers import normalize_case_number
from pos_assistant.db import Base


class CaseRecord(Base):
    __tablename__ = "cases"

    id = Column(Integer, primary_key=True)
    case_number = Column(String(16), nullable=False, unique=True)
    category = Column(String(32), nullable=False)
    status = Column(String(32), nullable=False)
    contact_phone = Column(String(11), nullable=False)
    brand = Column(String(64))
    device_serial = Column(String(32))
    tracking_number = Column(String(32))
    amount = Column(String(16))
    description = Column(Text, nullable=False)
    channel = Column(String(32), nullable=False)
    channel_user_id = Column(String(128), nullable=False)
    # Conversation + form run: a double submit of the same form run finds the first case.
    idempotency_key = Column(String(64), nullable=False, unique=True)
    # Hash of the submitted content: the same data re-submitted within minutes is one case.
    content_fingerprint = Column(String(64), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    events = relationship(
        "CaseEventRecord", back_populates="case", order_by="CaseEventRecord.id", lazy="selectin"
    )

    __table_args__ = (Index("ix_cases_channel_user", "channel", "channel_user_id"),)


class CaseEventRecord(Base):
    """One timeline entry: a status change and/or a note (public notes are shown to the user)."""

    __tablename__ = "case_events"

    id = Column(Integer, primary_key=True)
    case_id = Column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind = Column(String(16), nullable=False)  # created | status | note
    from_status = Column(String(32))
    to_status = Column(String(32))
    note = Column(Text)
    is_public = Column(Integer, nullable=False, default=1)
    author = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)

    case = relationship("CaseRecord", back_populates="events")


class LookupGuard(Base):
    """Failed verification attempts per case number (also for numbers that do not exist)."""

    __tablename__ = "lookup_guards"

    case_number = Column(String(16), primary_key=True)
    failed_attempts = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    updated_at = Column(DateTime, nullable=False)


class CaseVerification(Base):
    """This conversation proved it may see and add to this case, until `expires_at`.

    Written by the store when the last-4 check passes, when the case's opener (a trusted
    identity) asks, or when the conversation opens the case; read before any case data is
    returned or written. The conversation id is kept as its SHA-256: ids have no length limit.
    """

    __tablename__ = "case_verifications"

    conversation_hash = Column(String(64), primary_key=True)
    case_number = Column(String(16), primary_key=True)
    method = Column(String(16), nullable=False)  # last4 | opener | created
    verified_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)


def load_case(session: Session, case_number: str, *, for_update: bool = False) -> CaseRecord:
    """The case with this number (any spelling normalize_case_number accepts), or CaseNotFound."""
    normalized = normalize_case_number(case_number)
    query = select(CaseRecord).where(CaseRecord.case_number == (normalized or ""))
    if for_update:
        query = query.with_for_update()
    record = session.execute(query).scalar_one_or_none()
    if record is None:
        raise CaseNotFound(normalized or str(case_number))
    return record


def find_case(
    session: Session, case_number: str | None, *, for_update: bool = False
) -> CaseRecord | None:
    """Like load_case, but None for a number that does not exist."""
    try:
        return load_case(session, case_number or "", for_update=for_update)
    except CaseNotFound:
        return None

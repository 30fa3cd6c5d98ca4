"""Database tables of the case store and the handoff queue (SQLAlchemy 1.4, portable SQL only).

Times are stored as naive UTC datetimes so SQLite and PostgreSQL behave the same; the store
converts them to aware UTC datetimes when it hands records out.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


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


class RateCounter(Base):
    """A fixed-window counter per (scope, identity): failed lookups, new cases, handoffs.

    The identity (conversation id or client address) is kept as a SHA-256 of scope + value.
    """

    __tablename__ = "rate_counters"

    scope = Column(String(32), primary_key=True)
    key_hash = Column(String(64), primary_key=True)
    window_started = Column(DateTime, nullable=False)
    count = Column(Integer, nullable=False)


class HandoffRequestRecord(Base):
    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    category = Column(String(32))
    summary = Column(Text, nullable=False)
    case_number = Column(String(16))
    status = Column(String(16), nullable=False)  # waiting | taken | released
    taken_by = Column(String(64))
    # Equals conversation_id while the request is open (waiting/taken), NULL once released:
    # the unique constraint then allows one open request per conversation on every database.
    open_conversation_id = Column(String(128))
    # What the agent noted when handing back to the assistant (staff only, never sent).
    release_summary = Column(Text)
    # When the owner took it or last replied: an owner silent for HANDOFF_AGENT_TIMEOUT minutes
    # has abandoned it, and it goes back to the queue.
    agent_active_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    __table_args__ = (UniqueConstraint("open_conversation_id"),)

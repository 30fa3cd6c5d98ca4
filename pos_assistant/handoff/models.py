"""The handoff queue's table and its statuses."""

from __future__ import annotations

from enum import Enum

from sqlalchemy import Column, DateTime, Integer, String, Text, UniqueConstraint

from pos_assistant.db import Base


class HandoffStatus(str, Enum):
    WAITING = "waiting"
    TAKEN = "taken"
    RELEASED = "released"


OPEN_HANDOFF_STATUSES = (HandoffStatus.WAITING.value, HandoffStatus.TAKEN.value)
ALL_HANDOFF_STATUSES = tuple(status.value for status in HandoffStatus)


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

"""The attachments table (portable SQL; the engine and migrations are in pos_assistant/db.py)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String

from pos_assistant.db import Base


class AttachmentRecord(Base):
    """An evidence photo (pos_assistant/attachments/): held with the conversation that sent it
    until that conversation has a case, then attached to the case (`case_number`)."""

    __tablename__ = "attachments"

    id = Column(Integer, primary_key=True)
    # 128 random bits: the only handle on a photo outside the database (never the row id).
    public_id = Column(String(32), nullable=False, unique=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    case_number = Column(String(16), index=True)
    source = Column(String(16), nullable=False)  # widget | wechat
    storage_key = Column(String(64), nullable=False)
    thumbnail_key = Column(String(64), nullable=False)
    byte_size = Column(Integer, nullable=False)
    width = Column(Integer, nullable=False)
    height = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)

"""Console tables in the case database (migration console_0001); naive UTC times, as cases."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Integer, String, Text

from pos_assistant.db import Base


class AgentAccount(Base):
    __tablename__ = "console_accounts"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)  # Argon2id, parameters in the hash
    role = Column(String(16), nullable=False)  # agent | lead
    is_disabled = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class AgentTopic(Base):
    """A topic (case category code) a lead routed to this agent: shown first in their queue."""

    __tablename__ = "console_agent_topics"

    username = Column(String(64), primary_key=True)
    topic = Column(String(32), primary_key=True)


class ConsoleSession(Base):
    """A login. The cookie carries the session id; only its SHA-256 is stored."""

    __tablename__ = "console_sessions"

    session_hash = Column(String(64), primary_key=True)
    username = Column(String(64), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)  # e.g. conversation.view, handoff.reply
    target = Column(String(160), nullable=False)  # conversation id, case number, account name
    detail = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, index=True)


class Correction(Base):
    """An agent's "the assistant misread this message": the right intent, for the next training
    once a lead accepted it (exported as a data/nlu file, never applied automatically)."""

    __tablename__ = "console_corrections"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    message_timestamp = Column(Float, nullable=False)  # the user event's tracker timestamp
    text = Column(Text, nullable=False)  # masked, as in the tracker store
    predicted_intent = Column(String(64), nullable=False)
    correct_intent = Column(String(64), nullable=False)
    agent = Column(String(64), nullable=False)
    status = Column(String(16), nullable=False, index=True)  # pending | accepted | rejected
    reviewed_by = Column(String(64))
    created_at = Column(DateTime, nullable=False)
    reviewed_at = Column(DateTime)

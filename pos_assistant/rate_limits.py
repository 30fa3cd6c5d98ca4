"""How much one identity (conversation id, client address) may do: fixed-window counters in the
database, shared by case creation, failed case lookups and handoff requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_assistant.db import Base, identity_hash
from pos_assistant.settings import Settings


@dataclass(frozen=True)
class AbuseLimits:
    """How much one identity (conversation id, client address) may do; settings.py names them."""

    # The defaults are the settings' own (one place for each number).
    verification_minutes: int = Settings.case_verification_minutes
    lookup_failures_per_conversation: int = Settings.lookup_failures_per_conversation
    # Higher: behind a carrier or office NAT many people share one address.
    lookup_failures_per_address: int = Settings.lookup_failures_per_address
    lookup_identity_window_minutes: int = Settings.lookup_identity_window_minutes
    cases_per_conversation: int = Settings.cases_per_conversation
    cases_per_address: int = Settings.cases_per_address
    handoffs_per_conversation: int = Settings.handoffs_per_conversation
    handoffs_per_address: int = Settings.handoffs_per_address
    window_minutes: int = Settings.rate_limit_window_minutes


class RateCounter(Base):
    """A fixed-window counter per (scope, identity): failed lookups, new cases, handoffs.

    The identity (conversation id or client address) is kept as a SHA-256 of scope + value.
    """

    __tablename__ = "rate_counters"

    scope = Column(String(32), primary_key=True)
    key_hash = Column(String(64), primary_key=True)
    window_started = Column(DateTime, nullable=False)
    count = Column(Integer, nullable=False)


def identities(conversation_id: str, client_address: str | None) -> list[tuple[str, str]]:
    """(kind, value) of who is asking: always the conversation, the client address if known."""
    found = [("conversation", conversation_id)]
    if client_address:
        found.append(("address", client_address[:256]))
    return found


def take_quota(
    session: Session,
    now: datetime,
    quotas: Sequence[tuple[str, str, int]],
    window: timedelta,
    *,
    count_when_full: bool = True,
    amount: int = 1,
) -> datetime | None:
    """Counts `amount` uses against each (scope, identity, limit) in fixed windows.

    Returns when the earliest full counter frees up (and counts nothing) if any would go over
    its limit; with `count_when_full=False` it counts regardless and returns None. The counters
    are read for update in the caller's transaction, so processes sharing the database share them.
    """
    counters = []
    blocked_until: datetime | None = None
    for scope, value, limit in quotas:
        counter = _counter_for_update(session, now, scope, identity_hash(scope, value))
        if counter.window_started <= now - window:
            counter.window_started, counter.count = now, 0
        if counter.count + amount > limit:
            until = counter.window_started + window
            blocked_until = (
                until if blocked_until is None or until > blocked_until else blocked_until
            )
        counters.append(counter)
    if blocked_until is not None and count_when_full:
        return blocked_until
    for counter in counters:
        counter.count += amount
    return None


def counter_of(session: Session, scope: str, value: str) -> RateCounter | None:
    return session.get(RateCounter, (scope, identity_hash(scope, value)))


def _counter_for_update(session: Session, now: datetime, scope: str, key_hash: str) -> RateCounter:
    query = (
        select(RateCounter)
        .where(RateCounter.scope == scope, RateCounter.key_hash == key_hash)
        .with_for_update()
    )
    counter = session.execute(query).scalar_one_or_none()
    if counter is not None:
        return counter
    try:
        with session.begin_nested():
            session.add(RateCounter(scope=scope, key_hash=key_hash, window_started=now, count=0))
    except IntegrityError:
        pass  # a concurrent request created it first
    return session.execute(query).scalar_one()

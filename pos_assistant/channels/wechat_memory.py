"""In-process state of the WeChat channel: in-flight turns (retry dedupe), offered options and the
signed queries seen within their window (replay protection).

All live in this process's memory, which is right for one Rasa server. With several servers behind
a load balancer a retry may reach another server: move both maps to Redis (SET NX with expiry for
the turn key plus a short result cache; a hash per user for options; SET NX for signed queries), as
the lock store already is.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pos_assistant.channels.wechat_replies import Option

Value = TypeVar("Value")


class ExpiringMap(Generic[Value]):
    """A bounded map whose entries vanish `ttl_seconds` after being set (oldest evicted first)."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Value]] = OrderedDict()

    def get(self, key: str) -> Value | None:
        self._expire()
        entry = self._entries.get(key)
        return entry[1] if entry else None

    def set(self, key: str, value: Value) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self._ttl, value)
        self._expire()
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: str) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        self._expire()
        return len(self._entries)

    def _expire(self) -> None:
        now = self._clock()
        while self._entries:
            key, (expires_at, _) = next(iter(self._entries.items()))
            if expires_at > now:
                break
            del self._entries[key]


@dataclass
class Turn:
    """One assistant turn for one WeChat message, shared by that message's retries."""

    task: asyncio.Task
    late_delivery_scheduled: bool = False  # answered `success`; the reply goes out via the API
    remainder_sent: bool = False  # parts beyond the first passive reply were handed to the API


class TurnCache:
    """Runs the assistant once per message key; retries get the same (possibly running) turn.

    WeChat retries up to three times within about 15 s; five minutes of memory is ample.
    """

    def __init__(self, ttl_seconds: float = 300, max_entries: int = 10_000) -> None:
        self._turns: ExpiringMap[Turn] = ExpiringMap(ttl_seconds, max_entries)

    def get_or_start(self, key: str, start: Callable[[], Awaitable[Any]]) -> tuple[Turn, bool]:
        """The turn for `key` and whether this call started it."""
        turn = self._turns.get(key)
        if turn is not None:
            return turn, False
        turn = Turn(task=asyncio.ensure_future(start()))
        self._turns.set(key, turn)
        return turn, True


class OptionMemory:
    """The numbered options last offered to each user, so that "1" can mean the first button."""

    def __init__(self, ttl_seconds: float = 1800, max_entries: int = 50_000) -> None:
        self._options: ExpiringMap[list[Option]] = ExpiringMap(ttl_seconds, max_entries)

    def remember(self, user: str, options: list[Option]) -> None:
        if options:
            self._options.set(user, options)
        else:
            self._options.pop(user)  # a reply without buttons makes old numbers meaningless

    def offered(self, user: str) -> list[Option]:
        return self._options.get(user) or []


class SignedQueryMemory:
    """Which message each signed query (timestamp + nonce) carried, while WeChat still accepts it.

    WeChat's signature covers only token, timestamp and nonce, so a captured query is a pass for
    any body until its timestamp goes stale. The first message seen with a query claims it; the
    same query with the same message again (a retry) passes, with any other message it does not.
    Entries live as long as a timestamp is accepted (`ttl_seconds`); the oldest are dropped past
    `max_entries` (only WeChat, or whoever holds the token, can make new signed queries).
    """

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen: ExpiringMap[str] = ExpiringMap(ttl_seconds, max_entries, clock)

    def claim(self, timestamp: str, nonce: str, fingerprint: str) -> bool:
        """True when this query is new or was seen with this same message (`fingerprint`)."""
        key = f"{timestamp}:{nonce}"
        seen = self._seen.get(key)
        if seen is None:
            self._seen.set(key, fingerprint)
            return True
        return seen == fingerprint

    def __len__(self) -> int:
        return len(self._seen)

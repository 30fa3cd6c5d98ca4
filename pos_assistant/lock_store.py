"""A Redis lock store whose ticket changes are atomic across Rasa servers.

Rasa serialises the messages of one conversation with ticket locks. Rasa 3.6's RedisLockStore
issues a ticket by reading the lock from Redis, adding the ticket and writing the lock back, and
frees one the same way; two servers doing this at the same moment can both get ticket 0, handle
the same conversation at once, and one of the two messages is lost from the tracker (seen in
tests/e2e/test_scale_out.py). Here every change to a lock happens under a short Redis mutex
(redis-py's Lock: SET NX with an expiry, released by a Lua script), so changes never interleave.
Waiting for the ticket's turn stays Rasa's own loop, which only reads.

When Redis cannot be reached (stopped, restarting, not answering within `socket_timeout`), a
turn would fail before it starts and the user's message would be lost. Instead the conversation
is then serialised on this server only (Rasa's in-memory lock store), logged as an error: every
message is still answered and saved, and only two messages of the same conversation arriving at
the same moment on two different servers could interleave, until Redis is back.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, RedisLockStore, TicketLock
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Holding the mutex takes two Redis round trips; the expiry only matters if a server dies inside.
MUTEX_TIMEOUT_SECONDS = 10


class AtomicRedisLockStore(RedisLockStore):
    """Configured in endpoints.production.yml as `pos_assistant.lock_store.AtomicRedisLockStore`."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        kwargs: dict[str, Any] = dict(endpoint_config.kwargs)
        super().__init__(host=endpoint_config.url or "localhost", **kwargs)
        self._on_this_server = InMemoryLockStore()

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        ticket: int | None = None
        try:
            ticket = self.issue_ticket(conversation_id, lock_lifetime)
            acquired = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        except RedisError as error:
            self._forget(conversation_id, ticket)
            logger.error(
                "Redis lock store unreachable (%s): conversation serialised on this server only",
                error.__class__.__name__,
            )
            async with self._on_this_server.lock(
                conversation_id, lock_lifetime, wait_time_in_seconds
            ) as local:
                yield local
            return
        try:
            yield acquired
        finally:
            self._forget(conversation_id, ticket)

    def _forget(self, conversation_id: str, ticket: int | None) -> None:
        if ticket is None:
            return
        try:
            self.cleanup(conversation_id, ticket)
        except RedisError as error:
            # The ticket expires by itself after its lifetime.
            logger.warning("Redis lock store: ticket not released (%s)", error.__class__.__name__)

    def _mutex(self, conversation_id: str) -> Any:
        return self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex",
            timeout=MUTEX_TIMEOUT_SECONDS,
            blocking_timeout=MUTEX_TIMEOUT_SECONDS,
            sleep=0.005,  # the wait blocks the event loop: keep each pause short
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)

"""WeChat messages sent after the user's turn go through the outbox (pos_assistant/outbox.py).

`LateReplies.send` writes the message to the outbox and wakes the worker; the worker (one
asyncio task in each Rasa server, started with the server) sends due messages part by part,
retries a failed one after OUTBOX_FIRST_RETRY_SECONDS, doubling up to 10 minutes, and marks
it failed when WeChat refuses it or after OUTBOX_MAX_ATTEMPTS. A pending message survives a
restart: the next server's worker sends it. Database calls run in threads, never on the event
loop. When the database cannot take the message, it is sent at once as before (best effort)
rather than lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pos_assistant.cases.errors import StoreUnavailable
from pos_assistant.channels.wechat_api import (
    CustomerServiceSender,
    DeliveryFailed,
    DeliveryRefused,
)
from pos_assistant.outbox import Outbox, OutboxMessage, iter_parts, outbox_for
from pos_assistant.settings import Settings

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
MAX_RETRY_SECONDS = 600.0
POLL_SECONDS = 2.0
PURGE_EVERY_SECONDS = 3600.0  # old sent and failed rows are deleted this often (outbox.purge)


def retry_delay(first_seconds: float, attempts: int) -> float:
    """Wait before attempt `attempts + 1`: first, 2×first, 4×first … at most 10 minutes."""
    return min(first_seconds * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


class OutboxWorker:
    def __init__(
        self,
        outbox: Outbox,
        sender: CustomerServiceSender,
        first_retry_seconds: float,
        max_attempts: int,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.first_retry_seconds = first_retry_seconds
        self.max_attempts = max_attempts
        self.poll_seconds = min(poll_seconds, first_retry_seconds)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._purged_at = float("-inf")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except StoreUnavailable as error:
                logger.warning("Outbox: database unavailable (%s); trying again", error)
            except Exception:
                logger.exception("Outbox worker failed; trying again")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def run_once(self) -> int:
        """Sends what is due now; the number of messages it handled."""
        now = asyncio.get_running_loop().time()
        if now - self._purged_at >= PURGE_EVERY_SECONDS:
            self._purged_at = now
            await asyncio.to_thread(self.outbox.purge)
        messages = await asyncio.to_thread(self.outbox.claim_due)
        for message in messages:
            await self._deliver(message)
        return len(messages)

    async def _deliver(self, message: OutboxMessage) -> None:
        for index, text in iter_parts(message):
            try:
                await self.sender.send_one(message.recipient, text)
            except DeliveryRefused as refused:
                logger.error("Outbox message %d refused by WeChat: %s", message.id, refused)
                await asyncio.to_thread(self.outbox.mark_failed, message.id, str(refused))
                return
            except DeliveryFailed as failed:
                if message.attempts >= self.max_attempts:
                    logger.error("Outbox message %d failed for good: %s", message.id, failed)
                    await asyncio.to_thread(self.outbox.mark_failed, message.id, str(failed))
                    return
                delay = retry_delay(self.first_retry_seconds, message.attempts)
                logger.warning(
                    "Outbox message %d not sent (%s); next try in %.0f s", message.id, failed, delay
                )
                await asyncio.to_thread(self.outbox.retry_later, message.id, str(failed), delay)
                return
            await asyncio.to_thread(self.outbox.part_sent, message.id, index + 1)
        await asyncio.to_thread(self.outbox.mark_sent, message.id)


class LateReplies:
    """Sends messages outside the passive reply: through the outbox when there is a worker."""

    def __init__(self, sender: CustomerServiceSender, worker: OutboxWorker | None) -> None:
        self.sender = sender
        self.worker = worker

    @classmethod
    def from_settings(cls, sender: CustomerServiceSender, settings: Settings) -> LateReplies:
        if not sender.enabled:
            return cls(sender, None)  # nothing could send them: keep no rows that pile up
        worker = OutboxWorker(
            outbox_for(settings.database_url),
            sender,
            first_retry_seconds=settings.outbox_first_retry_seconds,
            max_attempts=settings.outbox_max_attempts,
        )
        return cls(sender, worker)

    async def send(self, openid: str, parts: list[str], key: str) -> None:
        if not parts:
            return
        if self.worker is not None:
            try:
                await asyncio.to_thread(self.worker.outbox.enqueue, CHANNEL, openid, parts, key)
            except StoreUnavailable as error:
                logger.error("Outbox unavailable (%s): sending the reply at once", error)
            else:
                self.worker.wake()
                return
        if not await self.sender.send_texts(openid, parts):
            logger.error("A WeChat reply could not be delivered")

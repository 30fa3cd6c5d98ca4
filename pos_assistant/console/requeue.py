"""Abandoned takes: a conversation whose agent stopped replying goes back to the queue.

The console checks every minute; a taken conversation without a reply from its agent for
HANDOFF_AGENT_TIMEOUT minutes is waiting again, its customer is told (data/console.yml
`requeued_notice`), and the audit log names the agent who left it. With several console
processes each checks; the database hands each conversation to one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from pos_assistant.cases.errors import CaseStoreError
from pos_assistant.console.context import CONTEXT, ConsoleContext
from pos_assistant.console.texts import console_texts

CHECK_SECONDS = 60
SYSTEM_ACTOR = "system"

logger = logging.getLogger(__name__)


def requeue_once(context: ConsoleContext) -> list[str]:
    requeued = context.handoffs.requeue_abandoned(console_texts()["requeued_notice"])
    for request, owner in requeued:
        context.audit.record(SYSTEM_ACTOR, "handoff.requeue", request.conversation_id, owner)
    return [request.conversation_id for request, _ in requeued]


async def requeue_abandoned_takes(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: the minute-by-minute check runs while the app does."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                await asyncio.to_thread(requeue_once, app[CONTEXT])
            except CaseStoreError as failure:
                logger.warning("abandoned-take check failed: %s", failure)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

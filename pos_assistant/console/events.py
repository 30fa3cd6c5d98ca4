"""Server-sent events: the queue, and the open conversation, pushed when they change.

GET /api/events?conversation=<id> sends `queue` (the whole queue) and, with a conversation,
`conversation` (the whole view) whenever either changed since the last check (every second).
Opening the stream on a conversation is written to the audit log as a view. The stream ends when
the session does (expiry, logout, disabled account); the page then shows the login again.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from pos_assistant.cases.errors import HandoffNotFound
from pos_assistant.console.api_handoffs import queue_snapshot, view_of
from pos_assistant.console.auth import account_of, error
from pos_assistant.console.context import ConsoleContext, context_of
from pos_assistant.staff.rasa_client import RasaUnreachable

routes = web.RouteTableDef()
CHECK_SECONDS = 1.0
SESSION_CHECK_EVERY = 5  # checks
MAX_STREAMS = 200
STREAMS: web.AppKey[set] = web.AppKey("console_streams", set)


def _snapshot(
    context: ConsoleContext, agent: str, conversation_id: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    queue = queue_snapshot(context, agent)
    if not conversation_id:
        return queue, None
    try:
        return queue, view_of(context, conversation_id, agent)
    except HandoffNotFound:
        return queue, {"closed": True, "conversation_id": conversation_id}


async def _send(response: web.StreamResponse, event: str, data: Any) -> None:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    await response.write(f"event: {event}\ndata: {payload}\n\n".encode())


@routes.get("/api/events")
async def events(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    agent = account_of(request).username
    conversation_id = request.query.get("conversation") or None
    streams = request.app[STREAMS]
    if len(streams) >= MAX_STREAMS:
        return error(503, "too_many_streams")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    streams.add(response)
    if conversation_id:
        await asyncio.to_thread(context.audit.record, agent, "conversation.watch", conversation_id)
    last_queue = last_view = None
    checks = 0
    try:
        while True:
            if checks % SESSION_CHECK_EVERY == 0 and not await asyncio.to_thread(
                context.accounts.session, request["session_id"]
            ):
                await _send(response, "session_ended", {})
                break
            checks += 1
            try:
                queue, view = await asyncio.to_thread(_snapshot, context, agent, conversation_id)
            except RasaUnreachable:
                queue, view = last_queue, last_view
            if queue != last_queue:
                await _send(response, "queue", {"handoffs": queue})
                last_queue = queue
            if view is not None and view != last_view:
                await _send(response, "conversation", view)
                last_view = view
            await asyncio.sleep(CHECK_SECONDS)
    except ConnectionResetError:
        pass
    finally:
        streams.discard(response)
    return response

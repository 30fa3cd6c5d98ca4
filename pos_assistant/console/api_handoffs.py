"""The queue and one conversation: read, take, reply, release; and the agent's own question."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pos_assistant.console.api_photos import photos_view
from pos_assistant.console.assist import MAX_QUESTION_CHARS, ask_assistant
from pos_assistant.console.auth import account_of, error
from pos_assistant.console.context import ConsoleContext, context_of, json_body, run
from pos_assistant.console.views import conversation_view, queue_entry
from pos_assistant.staff.rasa_client import RasaUnreachable

routes = web.RouteTableDef()
MAX_QUEUE = 200
MAX_SUMMARY_CHARS = 2000


def queue_snapshot(context: ConsoleContext, agent: str) -> list[dict[str, Any]]:
    """Open handoffs: the agent's own first, then waiting ones on the agent's topics, then the
    other waiting ones (oldest first within each), then those other agents have."""
    topics = set(context.accounts.topics().get(agent, []))
    entries = []
    for request in context.handoffs.requests()[:MAX_QUEUE]:
        try:
            tracker = context.trackers.get(request.conversation_id, context.handoffs.tracker)
            events = tracker.get("events") or []
        except RasaUnreachable:
            events = None
        entries.append(queue_entry(request, events, context.labels))

    def rank(entry: dict[str, Any]) -> int:
        if entry["taken_by"] == agent:
            return 0
        if entry["status"] == "waiting":
            return 1 if entry["topic"] in topics else 2
        return 3

    return sorted(entries, key=lambda entry: (rank(entry), entry["since"]))


def view_of(context: ConsoleContext, conversation_id: str, agent: str) -> dict[str, Any]:
    conversation = context.handoffs.conversation(conversation_id)
    view = conversation_view(conversation, context.store, context.labels, agent)
    case_number = view["case"]["case_number"] if view["case"] else None
    view["photos"] = photos_view(context.photos, conversation_id, case_number)
    return view


@routes.get("/api/handoffs")
async def handoffs(request: web.Request) -> web.Response:
    context = context_of(request)
    agent = account_of(request).username
    return web.json_response({"handoffs": await run(queue_snapshot, context, agent)})


@routes.get("/api/conversations/{conversation_id}")
async def conversation(request: web.Request) -> web.Response:
    context = context_of(request)
    agent = account_of(request).username
    conversation_id = request.match_info["conversation_id"]
    view = await run(view_of, context, conversation_id, agent)
    await run(context.audit.record, agent, "conversation.view", conversation_id)
    return web.json_response(view)


@routes.post("/api/conversations/{conversation_id}/take")
async def take(request: web.Request) -> web.Response:
    context = context_of(request)
    account = account_of(request)
    conversation_id = request.match_info["conversation_id"]
    body = await json_body(request) if request.can_read_body else {}
    reassign = bool(body.get("reassign"))
    if reassign and not account.is_lead:
        return error(403, "lead_only")
    taken = await run(context.handoffs.take, conversation_id, account.username, reassign=reassign)
    action = "handoff.reassign" if reassign else "handoff.take"
    await run(context.audit.record, account.username, action, conversation_id)
    return web.json_response({"conversation_id": conversation_id, "taken_by": taken.taken_by})


@routes.post("/api/conversations/{conversation_id}/reply")
async def reply(request: web.Request) -> web.Response:
    context = context_of(request)
    agent = account_of(request).username
    conversation_id = request.match_info["conversation_id"]
    text = (await json_body(request)).get("text")
    if not isinstance(text, str):
        return error(400, "text_required")
    await run(context.handoffs.reply, conversation_id, agent, text)
    await run(context.audit.record, agent, "handoff.reply", conversation_id, f"{len(text)} chars")
    return web.json_response({"conversation_id": conversation_id, "sent": True})


@routes.post("/api/conversations/{conversation_id}/release")
async def release(request: web.Request) -> web.Response:
    context = context_of(request)
    account = account_of(request)
    conversation_id = request.match_info["conversation_id"]
    body = await json_body(request) if request.can_read_body else {}
    summary = body.get("summary") or None
    if summary is not None and (not isinstance(summary, str) or len(summary) > MAX_SUMMARY_CHARS):
        return error(400, "bad_summary")
    await run(
        context.handoffs.release,
        conversation_id,
        agent=account.username,
        summary=summary,
        reassign=account.is_lead,
    )
    await run(
        context.audit.record, account.username, "handoff.release", conversation_id, summary or ""
    )
    return web.json_response({"conversation_id": conversation_id, "released": True})


@routes.post("/api/assist")
async def assist(request: web.Request) -> web.Response:
    context = context_of(request)
    text = (await json_body(request)).get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_QUESTION_CHARS:
        return error(400, "text_required")
    answer = await run(ask_assistant, context.settings, text)
    await run(
        context.audit.record, account_of(request).username, "assist.ask", "", f"{len(text)} chars"
    )
    return web.json_response(answer)

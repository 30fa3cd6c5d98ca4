"""Corrections: an agent marks a misread customer message; leads review and export them."""

from __future__ import annotations

from aiohttp import web

from pos_assistant.console.auth import account_of, error, require_lead
from pos_assistant.console.context import context_of, json_body, run
from pos_assistant.console.corrections import STATUSES, domain_intents
from pos_assistant.console.texts import intent_labels

routes = web.RouteTableDef()


@routes.get("/api/intents")
async def intents(_: web.Request) -> web.Response:
    """What an agent can pick as the right reading: the domain's intents, labelled ones first."""
    labels = intent_labels()
    names = sorted(domain_intents(), key=lambda name: (name not in labels, name))
    return web.json_response({"intents": [{"name": n, "label": labels.get(n, "")} for n in names]})


@routes.post("/api/conversations/{conversation_id}/corrections")
async def correct(request: web.Request) -> web.Response:
    """Body {"timestamp": the message's `ts` from the conversation view, "intent": name}."""
    context = context_of(request)
    agent = account_of(request).username
    conversation_id = request.match_info["conversation_id"]
    body = await json_body(request)
    timestamp, intent = body.get("timestamp"), body.get("intent")
    if not isinstance(timestamp, (int, float)) or not isinstance(intent, str):
        return error(400, "timestamp_and_intent_required")
    conversation = await run(context.handoffs.conversation, conversation_id)
    added = await run(
        context.corrections.add,
        conversation_id,
        conversation.events,
        float(timestamp),
        intent,
        agent,
    )
    await run(context.audit.record, agent, "correction.add", conversation_id, intent)
    return web.json_response(added.as_json(), status=201)


@routes.get("/api/corrections")
async def corrections(request: web.Request) -> web.Response:
    if (refused := require_lead(request)) is not None:
        return refused
    status = request.query.get("status") or None
    if status is not None and status not in STATUSES:
        return error(400, "unknown_status")
    found = await run(context_of(request).corrections.list, status)
    return web.json_response({"corrections": [record.as_json() for record in found]})


@routes.post("/api/corrections/{correction_id:\\d+}/review")
async def review(request: web.Request) -> web.Response:
    """Body {"accept": true|false}."""
    if (refused := require_lead(request)) is not None:
        return refused
    context = context_of(request)
    lead = account_of(request).username
    accept = (await json_body(request)).get("accept")
    if not isinstance(accept, bool):
        return error(400, "accept_required")
    correction_id = int(request.match_info["correction_id"])
    reviewed = await run(context.corrections.review, correction_id, accept, lead)
    await run(context.audit.record, lead, "correction.review", str(correction_id), reviewed.status)
    return web.json_response(reviewed.as_json())


@routes.get("/api/corrections/export")
async def export(request: web.Request) -> web.Response:
    """The accepted corrections as a data/nlu file, for the lead to review and commit."""
    if (refused := require_lead(request)) is not None:
        return refused
    context = context_of(request)
    text = await run(context.corrections.export)
    await run(context.audit.record, account_of(request).username, "correction.export", "")
    return web.Response(
        text=text,
        content_type="application/x-yaml",
        headers={"Content-Disposition": 'attachment; filename="corrections.yml"'},
    )

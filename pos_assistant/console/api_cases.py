"""Cases for agents: list by status, one case, change its status and add notes."""

from __future__ import annotations

import secrets

from aiohttp import web

from pos_assistant.cases.records import NewCase
from pos_assistant.console.auth import account_of, error
from pos_assistant.console.context import context_of, json_body, run
from pos_assistant.console.views import case_card

routes = web.RouteTableDef()
MAX_DESCRIPTION_CHARS = 2000
MAX_NOTE_CHARS = 2000
MAX_LIST = 200


@routes.get("/api/cases")
async def cases(request: web.Request) -> web.Response:
    context = context_of(request)
    status = request.query.get("status") or None
    code = None
    if status:
        code = context.labels.status_code(status)
        if code is None:
            return error(400, "unknown_status")
    found = await run(context.store.list_cases, status=code, limit=MAX_LIST)
    await run(context.audit.record, account_of(request).username, "case.list", status or "")
    return web.json_response(
        {
            "cases": [
                {
                    "case_number": case.case_number,
                    "status": case.status,
                    "status_label": context.labels.status(case.status),
                    "category_label": context.labels.category(case.category),
                    "phone": case.masked_phone,
                    "updated_at": case.updated_at.isoformat(),
                }
                for case in found
            ]
        }
    )


@routes.get("/api/cases/{case_number}")
async def case(request: web.Request) -> web.Response:
    context = context_of(request)
    case_number = request.match_info["case_number"]
    found = await run(context.store.get_case, case_number)
    await run(context.audit.record, account_of(request).username, "case.view", found.case_number)
    return web.json_response(case_card(found, context.labels))


@routes.patch("/api/cases/{case_number}")
async def change_case(request: web.Request) -> web.Response:
    """Body: {"status"?: code or label, "note"?: text, "public"?: bool (default false)}. A note
    with a status change is public (the user sees it on lookup); a lone note is internal unless
    "public" is true."""
    context = context_of(request)
    agent = account_of(request).username
    case_number = request.match_info["case_number"]
    body = await json_body(request)
    status, note, public = body.get("status"), body.get("note"), bool(body.get("public"))
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_CHARS):
        return error(400, "bad_note")
    if status is None and not (note or "").strip():
        return error(400, "status_or_note_required")
    found = None
    if status is not None:
        code = context.labels.status_code(str(status))
        if code is None:
            return error(400, "unknown_status")
        found = await run(context.store.change_status, case_number, code, note=note, author=agent)
        await run(context.audit.record, agent, "case.status", found.case_number, code)
    elif note:
        found = await run(context.store.add_note, case_number, note, author=agent, public=public)
        visibility = "public" if public else "internal"
        await run(context.audit.record, agent, "case.note", found.case_number, visibility)
    assert found is not None
    return web.json_response(case_card(found, context.labels))


@routes.post("/api/conversations/{conversation_id}/case")
async def open_case(request: web.Request) -> web.Response:
    """Opens a case for the customer of this conversation. Body {"category", "contact_phone",
    "description"}: what the customer told the agent. The case belongs to the conversation, so the
    customer can look it up like one they opened with the assistant."""
    context = context_of(request)
    agent = account_of(request).username
    conversation_id = request.match_info["conversation_id"]
    body = await json_body(request)
    fields = {key: body.get(key) for key in ("category", "contact_phone", "description")}
    if not all(isinstance(value, str) and value.strip() for value in fields.values()):
        return error(400, "category_phone_description_required")
    if len(fields["description"]) > MAX_DESCRIPTION_CHARS:
        return error(400, "description_too_long")
    handoff = await run(context.handoffs.open_request, conversation_id)
    case = await run(
        context.store.create_case,
        NewCase(
            channel=handoff.channel,
            channel_user_id=conversation_id,
            idempotency_key=f"console-{secrets.token_hex(12)}",
            **fields,
        ),
    )
    await run(context.audit.record, agent, "case.open", case.case_number, conversation_id)
    # Photos the customer sent before there was a case go onto it, as when the assistant opens one.
    await run(context.photos.attach_held, conversation_id, case.case_number)
    return web.json_response(case_card(case, context.labels), status=201)

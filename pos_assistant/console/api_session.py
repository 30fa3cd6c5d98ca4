"""Login, logout, who am I; and the lead's pages: accounts and the audit log."""

from __future__ import annotations

from aiohttp import web

from pos_assistant.channels.addresses import client_address
from pos_assistant.console.accounts import AccountError, LoginRateLimited, LoginRefused
from pos_assistant.console.auth import (
    account_of,
    clear_session_cookie,
    error,
    require_lead,
    set_session_cookie,
)
from pos_assistant.console.context import ApiError, context_of, json_body, run

routes = web.RouteTableDef()


def _address(request: web.Request) -> str:
    settings = context_of(request).settings
    return client_address(
        request.remote or "", request.headers.get("X-Forwarded-For"), settings.trusted_proxies
    )


@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    context = context_of(request)
    body = await json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return error(400, "username_and_password_required")
    try:
        session = await run(context.accounts.login, username, password, _address(request))
    except LoginRefused:
        await run(context.audit.record, username[:64], "login.failed", username[:64])
        return error(401, "login_failed")
    except LoginRateLimited as limited:
        return error(429, "too_many_attempts", retry_at=limited.retry_at.isoformat())
    await run(context.audit.record, session.account.username, "login", session.account.username)
    response = web.json_response(
        {
            "username": session.account.username,
            "role": session.account.role,
            "csrf_token": session.csrf_token,
        }
    )
    set_session_cookie(
        response,
        context.signer,
        session.session_id,
        context.settings.console_session_minutes * 60,
        secure=context.settings.is_production,
    )
    return response


@routes.post("/api/logout")
async def logout(request: web.Request) -> web.Response:
    context = context_of(request)
    await run(context.accounts.logout, request["session_id"])
    await run(context.audit.record, account_of(request).username, "logout", "")
    response = web.json_response({"ok": True})
    clear_session_cookie(response)
    return response


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    """The page, after a reload, learns who is logged in and the CSRF token to send."""
    account = account_of(request)
    return web.json_response(
        {"username": account.username, "role": account.role, "csrf_token": request["csrf_token"]}
    )


@routes.get("/api/agents")
async def agents(request: web.Request) -> web.Response:
    if (refused := require_lead(request)) is not None:
        return refused
    found = await run(context_of(request).accounts.list_accounts)
    topics = await run(context_of(request).accounts.topics)
    return web.json_response(
        {
            "agents": [
                {
                    "username": a.username,
                    "role": a.role,
                    "disabled": a.is_disabled,
                    "topics": topics.get(a.username, []),
                }
                for a in found
            ]
        }
    )


@routes.put("/api/agents/{username}/topics")
async def route_topics(request: web.Request) -> web.Response:
    """Body {"topics": [category codes]}: this agent sees these topics first in the queue."""
    if (refused := require_lead(request)) is not None:
        return refused
    context = context_of(request)
    topics = (await json_body(request)).get("topics")
    known = context.labels.categories
    if not isinstance(topics, list) or not all(topic in known for topic in topics):
        return error(400, "unknown_topic", topics=sorted(known))
    username = request.match_info["username"]
    try:
        routed = await run(context.accounts.set_topics, username, topics)
    except AccountError:
        raise ApiError(error(404, "not_found")) from None
    await run(
        context.audit.record,
        account_of(request).username,
        "account.topics",
        username,
        ",".join(routed),
    )
    return web.json_response({"username": username, "topics": routed})


async def _set_disabled(request: web.Request, disabled: bool) -> web.Response:
    if (refused := require_lead(request)) is not None:
        return refused
    context = context_of(request)
    username = request.match_info["username"]
    try:
        account = await run(context.accounts.set_disabled, username, disabled)
    except AccountError:
        raise ApiError(error(404, "not_found")) from None
    action = "account.disable" if disabled else "account.enable"
    await run(context.audit.record, account_of(request).username, action, username)
    return web.json_response({"username": account.username, "disabled": account.is_disabled})


@routes.post("/api/agents/{username}/disable")
async def disable(request: web.Request) -> web.Response:
    return await _set_disabled(request, True)


@routes.post("/api/agents/{username}/enable")
async def enable(request: web.Request) -> web.Response:
    return await _set_disabled(request, False)


@routes.get("/api/audit")
async def audit(request: web.Request) -> web.Response:
    if (refused := require_lead(request)) is not None:
        return refused
    query = request.query
    try:
        limit = int(query.get("limit", "200"))
    except ValueError:
        return error(400, "bad_limit")
    entries = await run(
        context_of(request).audit.entries,
        limit=limit,
        actor=query.get("actor") or None,
        target=query.get("target") or None,
    )
    return web.json_response({"entries": [entry.as_json() for entry in entries]})

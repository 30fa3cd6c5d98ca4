"""The console's web app: the page (web/console/), its texts, and the JSON API under /api/.

Run: python -m pos_assistant.console [--host 127.0.0.1] [--port 8001]. It reaches Rasa with
RASA_URL + RASA_API_TOKEN and the case database with DATABASE_URL, as the staff tool does.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.cases.labels import load_case_labels
from pos_assistant.cases.store import CaseStore
from pos_assistant.console import (
    api_cases,
    api_corrections,
    api_handoffs,
    api_photos,
    api_session,
    events,
)
from pos_assistant.console.accounts import AccountStore
from pos_assistant.console.audit import AuditLog
from pos_assistant.console.auth import CookieSigner, auth_middleware, read_or_create_secret
from pos_assistant.console.context import CONTEXT, ConsoleContext, api_errors
from pos_assistant.console.corrections import Corrections
from pos_assistant.console.requeue import requeue_abandoned_takes
from pos_assistant.console.texts import console_texts
from pos_assistant.handoff.service import HandoffService
from pos_assistant.settings import PROJECT_ROOT, Settings, get_settings

PAGE_DIR = PROJECT_ROOT / "web" / "console"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

logger = logging.getLogger("pos_assistant.console")


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    answer = await handler(request)
    if not answer.prepared:
        answer.headers.update(SECURITY_HEADERS)
        if request.path.startswith("/api/"):
            answer.headers["Cache-Control"] = "no-store"
    return answer


async def page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(PAGE_DIR / "index.html")


async def texts(_: web.Request) -> web.Response:
    data = console_texts()
    return web.json_response({"page": data["page"], "flags": data["flags"]})


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(
    settings: Settings | None = None,
    *,
    store: CaseStore | None = None,
    handoffs: HandoffService | None = None,
    secret_key: bytes | None = None,
) -> web.Application:
    settings = settings or get_settings()
    store = store or CaseStore(settings.database_url)
    accounts = AccountStore(
        store,
        session_minutes=settings.console_session_minutes,
        login_failures=settings.console_login_failures,
        login_window_minutes=settings.console_login_window_minutes,
    )
    key = secret_key or (
        settings.console_secret_key.encode("utf-8")
        if settings.console_secret_key
        else read_or_create_secret()
    )
    signer = CookieSigner(key)
    app = web.Application(
        middlewares=[security_headers, auth_middleware(accounts, signer), api_errors],
        client_max_size=64 * 1024,
    )
    app[CONTEXT] = ConsoleContext(
        settings=settings,
        store=store,
        accounts=accounts,
        audit=AuditLog(store),
        handoffs=handoffs or HandoffService(store, settings),
        labels=load_case_labels(),
        signer=signer,
        corrections=Corrections(store),
        photos=PhotoInbox.from_settings(settings, store),
    )
    app[events.STREAMS] = set()
    app.cleanup_ctx.append(requeue_abandoned_takes)
    for module in (api_session, api_handoffs, api_cases, api_corrections, api_photos, events):
        app.router.add_routes(module.routes)
    app.router.add_get("/", page)
    app.router.add_get("/console/texts", texts)
    app.router.add_get("/health", health)
    app.router.add_static("/static/", PAGE_DIR)

    async def api_not_found(_: web.Request) -> web.Response:
        return web.json_response({"error": "not_found"}, status=404)

    app.router.add_route("*", "/api/{tail:.*}", api_not_found)
    return app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description="Agent console of the POS assistant")
    parser.add_argument("--host", default=settings.console_host)
    parser.add_argument("--port", type=int, default=settings.console_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not Path(PAGE_DIR / "index.html").is_file():
        parser.error(f"{PAGE_DIR}/index.html is missing")
    web.run_app(
        create_app(settings), host=args.host, port=args.port, print=None, shutdown_timeout=3
    )

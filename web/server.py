"""Serves the demo page with the chat widget and relays the widget's socket.io traffic to Rasa.

Run: python -m web.server --port 8000 --rasa-url http://localhost:5005

Why relay socket.io instead of letting the browser connect to Rasa directly: --rasa-url is how
this server reaches Rasa (often localhost or an internal host), which a visitor's browser, e.g. a
phone on the same network, cannot reach. Same-origin traffic also needs no CORS setup on Rasa, lets
the page keep a strict Content-Security-Policy (connect-src 'self'), and exposes only one port.

Other websites embed the widget with one tag, `<script src="<this server>/embed.js" async>`:
the widget then talks to this relay cross-origin, which it answers only for the origins in
WIDGET_ALLOWED_ORIGINS (web/embedding.py).

The relay adds the browser's address to X-Forwarded-For (Rasa believes it only when this server's
address is in TRUSTED_PROXY) and refuses bodies and WebSocket messages above MAX_REQUEST_BYTES.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import weakref
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import WSCloseCode, WSMsgType, web

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.cases.provider import get_case_store
from pos_assistant.settings import get_settings
from web import attachments
from web.embedding import (
    ALLOWED_ORIGINS,
    build_bundle,
    cross_origin_policy,
    embed_handler,
    parse_allowed_origins,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEXTS_PATH = Path(__file__).resolve().parents[1] / "data" / "channels" / "web.yml"
SOCKETIO_PATH = "/socket.io/"
# Engine.IO long-polling holds a GET open for up to its ping interval (25 s) before answering.
UPSTREAM_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=5)
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "user-agent")
FORWARDED_RESPONSE_HEADERS = ("content-type", "cache-control")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' https: data: blob:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

logger = logging.getLogger("web.server")

RASA_URL: web.AppKey[str] = web.AppKey("rasa_url", str)
HTTP_SESSION: web.AppKey[aiohttp.ClientSession] = web.AppKey("http_session", aiohttp.ClientSession)
WIDGET_TEXTS: web.AppKey[dict] = web.AppKey("widget_texts", dict)
OPEN_SOCKETS: web.AppKey[weakref.WeakSet] = web.AppKey("open_sockets", weakref.WeakSet)
MAX_BYTES: web.AppKey[int] = web.AppKey("max_bytes", int)


def load_widget_texts(path: Path = TEXTS_PATH) -> dict[str, str]:
    texts = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key): str(value) for key, value in texts.items()}


async def index(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def config(request: web.Request) -> web.Response:
    """What the widget needs to know: where socket.io answers (here, relayed) and its texts."""
    return web.json_response(
        {"socketPath": SOCKETIO_PATH, "texts": request.app[WIDGET_TEXTS]},
        headers={"Cache-Control": "no-store"},
    )


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def relay_socketio(request: web.Request) -> web.StreamResponse:
    """Forwards one Engine.IO request (long-polling or a WebSocket) to Rasa's socket.io."""
    upstream = request.app[RASA_URL] + request.path_qs
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await _relay_websocket(request, upstream)
    headers = {
        name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers
    }
    headers.update(_forwarded_for(request))
    try:
        async with request.app[HTTP_SESSION].request(
            request.method,
            upstream,
            headers=headers,
            data=await request.read(),
            timeout=UPSTREAM_TIMEOUT,
        ) as answer:
            body = await answer.read()
            out_headers = {
                name: answer.headers[name]
                for name in FORWARDED_RESPONSE_HEADERS
                if name in answer.headers
            }
            return web.Response(status=answer.status, body=body, headers=out_headers)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        logger.warning("Rasa socket.io unreachable: %s", error)
        return web.Response(status=502, text="assistant unreachable")


async def _relay_websocket(request: web.Request, upstream: str) -> web.StreamResponse:
    max_bytes = request.app[MAX_BYTES]
    browser = web.WebSocketResponse(autoping=True, max_msg_size=max_bytes)
    await browser.prepare(request)
    request.app[OPEN_SOCKETS].add(browser)
    try:
        async with request.app[HTTP_SESSION].ws_connect(
            upstream.replace("http", "ws", 1),
            autoping=True,
            timeout=10,
            headers=_forwarded_for(request),
            max_msg_size=max_bytes,
        ) as rasa:
            await _pump_both_ways(browser, rasa)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        logger.warning("Rasa socket.io WebSocket failed: %s", error)
    finally:
        await browser.close()
    return browser


def _forwarded_for(request: web.Request) -> dict[str, str]:
    """X-Forwarded-For with the browser's address appended, as a proxy writes it."""
    earlier = request.headers.get("X-Forwarded-For", "")
    peer = request.remote or ""
    return {"X-Forwarded-For": f"{earlier}, {peer}" if earlier else peer}


async def _pump_both_ways(
    browser: web.WebSocketResponse, rasa: aiohttp.ClientWebSocketResponse
) -> None:
    async def pump(source: Any, target: Any) -> None:
        async for message in source:
            if message.type == WSMsgType.TEXT:
                await target.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                await target.send_bytes(message.data)
            else:
                break

    tasks = [
        asyncio.ensure_future(pump(browser, rasa)),
        asyncio.ensure_future(pump(rasa, browser)),
    ]
    # When either side goes away, close the other so the browser notices and reconnects.
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await rasa.close()


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    answer = await handler(request)
    if not isinstance(answer, web.WebSocketResponse) and not answer.prepared:
        answer.headers.update(SECURITY_HEADERS)
    return answer


def create_app(rasa_url: str) -> web.Application:
    settings = get_settings()
    max_bytes = settings.max_request_bytes
    app = web.Application(
        middlewares=[cross_origin_policy, security_headers], client_max_size=max_bytes
    )
    app[ALLOWED_ORIGINS] = parse_allowed_origins(settings.widget_allowed_origins)
    app[RASA_URL] = rasa_url.rstrip("/")
    app[MAX_BYTES] = max_bytes
    app[WIDGET_TEXTS] = load_widget_texts()

    async def http_session(app: web.Application):  # type: ignore[no-untyped-def]
        app[HTTP_SESSION] = aiohttp.ClientSession()
        yield
        await app[HTTP_SESSION].close()

    app[OPEN_SOCKETS] = weakref.WeakSet()

    async def close_sockets(app: web.Application) -> None:
        # Open WebSockets would hold a shutdown for a minute; browsers reconnect on their own.
        for socket in list(app[OPEN_SOCKETS]):
            await socket.close(code=WSCloseCode.GOING_AWAY)

    app.on_shutdown.append(close_sockets)
    app.cleanup_ctx.append(http_session)
    app.router.add_get("/", index)
    app.router.add_get("/embed.js", embed_handler(build_bundle(STATIC_DIR)))
    app.router.add_get("/config.json", config)
    app.router.add_get("/health", health)
    attachments.add_routes(
        app, PhotoInbox.from_settings(settings, get_case_store()), settings, rasa_url
    )
    app.router.add_route("*", SOCKETIO_PATH, relay_socketio)
    app.router.add_static("/static/", STATIC_DIR)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Demo page and chat widget of the POS assistant")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--rasa-url", default="http://localhost:5005")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not (STATIC_DIR / "vendor" / "socket.io.min.js").is_file():
        parser.error("web/static/vendor/socket.io.min.js is missing: run `make setup`")
    web.run_app(
        create_app(args.rasa_url), host=args.host, port=args.port, print=None, shutdown_timeout=5
    )


if __name__ == "__main__":
    main()

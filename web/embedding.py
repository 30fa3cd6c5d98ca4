"""The one-tag embed: the widget bundle, and which websites may talk to the relay.

`/embed.js` is socket.io-client and widget.js in one script, with socket.io's UMD wrapper given
a local `module` so that it neither reads nor sets the host page's `window.io` / AMD `define`.

A browser sends `Origin` on every cross-origin request and on every WebSocket handshake. The
relay answers an origin only when it is its own (the demo page needs no setting) or listed in
WIDGET_ALLOWED_ORIGINS; any other origin gets 403 on the endpoints a widget uses (config,
socket.io, uploads), so a page elsewhere cannot run the assistant in its visitors' browsers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

# The endpoints a page on another site uses; static files and /embed.js are public.
GUARDED_PREFIXES = ("/config.json", "/socket.io/", "/uploads", "/attachments/")
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, X-Widget-Session",
    "Access-Control-Max-Age": "600",
}

ALLOWED_ORIGINS: web.AppKey[frozenset] = web.AppKey("allowed_origins", frozenset)


def normalize_origin(origin: str) -> str:
    """`https://Shop.example.com:443/` -> `https://shop.example.com` (the form browsers send)."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) origin: {origin!r}")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def parse_allowed_origins(values: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize_origin(value) for value in values if value.strip())


def is_same_origin(origin: str, request: web.Request) -> bool:
    """The relay's own pages: the Origin names the host the browser addressed."""
    return urlsplit(origin).netloc.lower() == request.host.lower()


def origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser's cross-origin request (or a same-origin GET)
        return True
    if is_same_origin(origin, request):
        return True
    try:
        return normalize_origin(origin) in request.app[ALLOWED_ORIGINS]
    except ValueError:  # "null" (sandboxed iframes, file://) and other non-web origins
        return False


@web.middleware
async def cross_origin_policy(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    guarded = request.path.startswith(GUARDED_PREFIXES)
    if guarded and not origin_allowed(request):
        return web.Response(status=403, text="origin not allowed")
    origin = request.headers.get("Origin")
    cors = (
        {"Access-Control-Allow-Origin": origin, "Vary": "Origin", **CORS_HEADERS}
        if guarded and origin and not is_same_origin(origin, request)
        else {}
    )
    if request.method == "OPTIONS" and cors:
        return web.Response(status=204, headers=cors)
    answer = await handler(request)
    if cors and not isinstance(answer, web.WebSocketResponse) and not answer.prepared:
        answer.headers.update(cors)
    return answer


def build_bundle(static_dir: Path) -> bytes:
    """socket.io-client and the widget as one script, socket.io kept local to the bundle."""
    socket_io = (static_dir / "vendor" / "socket.io.min.js").read_text(encoding="utf-8")
    widget = (static_dir / "widget.js").read_text(encoding="utf-8")
    return (
        "/* POS chat widget: socket.io-client (MIT, Socket.IO contributors) + widget.js */\n"
        "(function () {\nvar module = { exports: {} }, exports = module.exports, define;\n"
        f"{socket_io}\n;\nvar io = module.exports;\n{widget}\n}}).call(this);\n"
    ).encode()


def embed_handler(bundle: bytes) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def embed(_: web.Request) -> web.Response:
        return web.Response(
            body=bundle,
            content_type="application/javascript",
            charset="utf-8",
            headers={"Cache-Control": "no-cache", "Cross-Origin-Resource-Policy": "cross-origin"},
        )

    return embed

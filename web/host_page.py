"""A second demo site on another origin, with deliberately hostile CSS, that embeds the widget.

Run: python -m web.host_page --port 8001 --widget-server http://localhost:8000
(the widget server then needs WIDGET_ALLOWED_ORIGINS=http://localhost:8001). The browser tests
use it to check that the one-tag snippet works on a page the project does not control.
"""

from __future__ import annotations

import argparse
import html
from pathlib import Path

from aiohttp import web

PAGE_DIR = Path(__file__).resolve().parent / "host_demo"
# The snippet's data- options a page may set, passed through as given (tests try each of them).
SNIPPET_OPTIONS = ("title", "position", "color", "open")


def render_page(widget_server: str, options: dict[str, str]) -> str:
    template = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    attributes = "".join(
        f' data-{name}="{html.escape(value)}"'
        for name, value in options.items()
        if name in SNIPPET_OPTIONS
    )
    return template.replace("{{WIDGET_SERVER}}", html.escape(widget_server)).replace(
        "{{WIDGET_OPTIONS}}", attributes
    )


def create_app(widget_server: str) -> web.Application:
    server = widget_server.rstrip("/")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=render_page(server, dict(request.query)), content_type="text/html")

    async def stylesheet(_: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE_DIR / "hostile.css")

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/hostile.css", stylesheet)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="A hostile-CSS website embedding the widget")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--widget-server", default="http://localhost:8000")
    args = parser.parse_args()
    web.run_app(create_app(args.widget_server), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()

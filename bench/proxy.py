"""A tiny round-robin HTTP proxy: one address in front of several Rasa servers (bench only).

Each request goes to the next backend in turn, so the messages of one conversation land on
different servers, as behind a load balancer without sticky sessions. Loopback only.
"""

from __future__ import annotations

import argparse
import itertools

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


def build_app(backends: list[str]) -> web.Application:
    turn = itertools.cycle(backends)
    app = web.Application(client_max_size=4 * 1024 * 1024)

    async def start_session(app: web.Application) -> None:
        app["session"] = ClientSession(
            connector=TCPConnector(limit=0), timeout=ClientTimeout(total=120)
        )

    async def close_session(app: web.Application) -> None:
        await app["session"].close()

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def forward(request: web.Request) -> web.Response:
        backend = next(turn)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with app["session"].request(
            request.method,
            backend + request.rel_url.path_qs,
            headers=headers,
            data=await request.read(),
        ) as upstream:
            body = await upstream.read()
            return web.Response(
                status=upstream.status,
                body=body,
                content_type=upstream.content_type,
            )

    app.on_startup.append(start_session)
    app.on_cleanup.append(close_session)
    app.router.add_get("/proxy-health", health)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True)
    args = parser.parse_args()
    web.run_app(build_app(args.backend), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()

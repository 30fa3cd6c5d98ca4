"""Calls to the action server over kept-alive connections.

Rasa 3.6 opens a new `aiohttp.ClientSession` for every request (`EndpointConfig.request`), so
every custom-action call (two or three a turn) pays a new TCP connection on both sides: the
Rasa server's profile showed `_wrap_create_connection` and `tcp_nodelay` among its hottest
functions (docs/turn-profile.md). This sends the calls through one session per event loop
instead, with the same headers, query parameters, timeout, errors and answer as Rasa's own.

The client gives up an idle connection before the action server does (Sanic closes it after
KEEP_ALIVE_TIMEOUT, 5 s), so a call is never written into a connection the server is closing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp.client_exceptions import ContentTypeError
from rasa.utils.endpoints import (
    DEFAULT_REQUEST_TIMEOUT,
    ClientResponseError,
    EndpointConfig,
    concat_url,
)
from sanic import Blueprint

# Below the action server's keep-alive timeout (Sanic's default, 5 s).
IDLE_CONNECTION_SECONDS = 2.0
# Connections per Rasa process; turn admission (pos_assistant/turn_admission.py) bounds the
# turns in flight well below this.
MAX_CONNECTIONS = 64

_sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}


def _session() -> aiohttp.ClientSession:
    """This event loop's session (tests run several loops one after another)."""
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        for old_loop in [known for known in _sessions if known.is_closed()]:
            del _sessions[old_loop]  # its connections died with it
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS, keepalive_timeout=IDLE_CONNECTION_SECONDS
            ),
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        )
        _sessions[loop] = session
    return session


async def close_sessions() -> None:
    """Closes this event loop's session (at server stop)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


async def request(
    endpoint: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """`EndpointConfig.request` (Rasa 3.6.21) on a kept-alive session (no `cafile`: plain
    HTTP on loopback or a private network; sent_events uses Rasa's own otherwise)."""
    headers: dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    headers.update(kwargs.pop("headers", None) or {})
    headers.update(endpoint.headers or {})
    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    async with _session().request(
        method,
        concat_url(endpoint.url, subpath),
        headers=headers,
        auth=auth,
        params=endpoint.combine_parameters(kwargs),
        compress=compress,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(
                response.status, response.reason, await response.content.read()
            )
        try:
            return await response.json()
        except ContentTypeError:
            return None


def close_sessions_at_stop(blueprint: Blueprint) -> None:
    """Closes the kept-alive connections when the server stops (idempotent per loop)."""

    @blueprint.listener("before_server_stop")
    async def close(*_: Any) -> None:
        await close_sessions()

"""Calls to the action server over kept-alive connections, answered as Rasa's own request does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from pos_assistant import action_client


async def _with_server(handler: Any, calls: Any) -> Any:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        return await calls(f"http://127.0.0.1:{port}")
    finally:
        await action_client.close_sessions()
        await runner.cleanup()


def test_calls_share_one_connection_and_carry_rasas_headers_and_token() -> None:
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            {
                "peer": request.transport.get_extra_info("peername"),  # type: ignore[union-attr]
                "path": request.path,
                "token": request.query.get("token"),
                "header": request.headers.get("X-Extra"),
                "type": request.headers.get("Content-Type"),
                "body": await request.json(),
            }
        )
        return web.json_response({"events": [], "responses": [{"text": "好的"}]})

    async def calls(url: str) -> list[Any]:
        endpoint = EndpointConfig(f"{url}/webhook", headers={"X-Extra": "1"}, token="secret")
        return [
            await action_client.request(endpoint, "post", json={"next_action": f"a{n}"})
            for n in range(3)
        ]

    answers = asyncio.run(_with_server(handler, calls))
    assert answers == [{"events": [], "responses": [{"text": "好的"}]}] * 3
    assert [call["body"]["next_action"] for call in seen] == ["a0", "a1", "a2"]
    assert {call["peer"] for call in seen} == {seen[0]["peer"]}  # one kept-alive connection
    assert all(call["path"] == "/webhook" for call in seen)
    assert all(call["token"] == "secret" and call["header"] == "1" for call in seen)
    assert all(call["type"] == "application/json" for call in seen)


def test_an_error_status_raises_rasas_error_and_a_non_json_answer_is_none() -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path == "/broken":
            return web.Response(status=500, text="boom")
        return web.Response(text="plain")

    async def calls(url: str) -> Any:
        endpoint = EndpointConfig(url)
        with pytest.raises(ClientResponseError) as raised:
            await action_client.request(endpoint, "post", "broken", json={})
        assert raised.value.status == 500
        return await action_client.request(endpoint, "post", "plain", json={})

    assert asyncio.run(_with_server(handler, calls)) is None


def test_each_event_loop_gets_its_own_session() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def calls(url: str) -> Any:
        return await action_client.request(EndpointConfig(url), "post", json={})

    # A session bound to a finished loop is never reused (it would fail on every call).
    assert asyncio.run(_with_server(handler, calls)) == {"ok": True}
    assert asyncio.run(_with_server(handler, calls)) == {"ok": True}

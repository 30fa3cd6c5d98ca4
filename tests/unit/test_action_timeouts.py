"""pos_assistant.action_timeouts against real sockets: a hung, a refusing and a failing action
server; Rasa's own RemoteAction, EndpointConfig, domain and response generator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
import rasa.core.actions.action  # noqa: F401  (imported before pos_assistant: the patch installs)
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, FollowupAction
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from pos_assistant import action_timeouts
from pos_assistant.settings import get_settings
from tests.e2e.stack import free_port
from tests.fresh_python import fresh_python_output
from tests.paths import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
TIMEOUT = 1.0


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    action_timeouts.install()  # as the Rasa server has it (pos_assistant/__init__.py)
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", str(TIMEOUT))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class FakeActionServer:
    """A TCP server that counts connections and answers each with `respond` (None: never)."""

    def __init__(self, respond: Callable[[], bytes | None]) -> None:
        self.respond = respond
        self.connections = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        answer = self.respond()
        if answer is None:
            await asyncio.sleep(3600)  # hung: accepted, read, never answered
        writer.write(answer)
        await writer.drain()
        writer.close()


def http_answer(status: str, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


async def serve(fake: FakeActionServer) -> AsyncIterator[FakeActionServer]:
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()


@pytest.fixture
async def hung_server() -> AsyncIterator[FakeActionServer]:
    async for fake in serve(FakeActionServer(lambda: None)):
        yield fake


def remote(port: int, name: str = "action_submit_case") -> RemoteAction:
    return RemoteAction(name, EndpointConfig(f"http://127.0.0.1:{port}/webhook"))


async def run(action: object) -> list:
    tracker = DialogueStateTracker.from_events("unit-timeouts", [], slots=DOMAIN.slots)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return await action.run(CollectingOutputChannel(), nlg, tracker, DOMAIN)  # type: ignore[attr-defined]


def test_active_once_rasa_loads_our_tracker_store_also_with_the_speed_patches_off() -> None:
    # What the Rasa server does: its own action code first, then our modules from endpoints.yml.
    code = (
        "import rasa.core.actions.action as action\n"
        "import pos_assistant.tracker_store\n"
        "from pos_assistant import action_timeouts\n"
        "print(action_timeouts.installed(),"
        " action.RemoteAction.run is action_timeouts._remote_run)\n"
    )
    assert (
        fresh_python_output(code, TF_CPP_MIN_LOG_LEVEL="3", POS_RASA_PATCHES="off") == "True True"
    )


async def test_a_hung_action_server_times_out_after_the_setting(
    hung_server: FakeActionServer,
) -> None:
    started = time.monotonic()
    with pytest.raises(action_timeouts.ActionServerUnavailable):
        await run(remote(hung_server.port))
    waited = time.monotonic() - started
    assert TIMEOUT * 0.9 <= waited < TIMEOUT + 5, waited


async def test_a_refused_connection_counts_as_unavailable() -> None:
    with pytest.raises(action_timeouts.ActionServerUnavailable):
        await run(remote(free_port()))


async def test_a_5xx_counts_as_unavailable_a_rejection_stays_a_rejection() -> None:
    async for fake in serve(FakeActionServer(lambda: http_answer("500 Internal", b"{}"))):
        with pytest.raises(action_timeouts.ActionServerUnavailable):
            await run(remote(fake.port))
    rejection = b'{"action_name": "action_submit_case", "error": "no"}'
    async for fake in serve(FakeActionServer(lambda: http_answer("400 Bad Request", rejection))):
        with pytest.raises(ActionExecutionRejection):
            await run(remote(fake.port))


async def test_after_one_failure_the_turn_does_not_call_the_action_server_again(
    hung_server: FakeActionServer,
) -> None:
    with action_timeouts.turn_scope():
        with pytest.raises(action_timeouts.ActionServerUnavailable):
            await run(remote(hung_server.port))
        started = time.monotonic()
        with pytest.raises(action_timeouts.ActionServerUnavailable):
            await run(remote(hung_server.port, "action_every_message"))
        assert time.monotonic() - started < TIMEOUT / 2
    assert hung_server.connections == 1
    # The next turn tries again.
    with action_timeouts.turn_scope(), pytest.raises(action_timeouts.ActionServerUnavailable):
        await run(remote(hung_server.port))
    assert hung_server.connections == 2


async def test_the_turn_ends_with_the_apology_and_a_listen(hung_server: FakeActionServer) -> None:
    events = await run(action_timeouts._ApologisingAction(remote(hung_server.port)))
    assert isinstance(events[-1], FollowupAction) and events[-1].action_name == "action_listen"
    (apology,) = [event for event in events if isinstance(event, BotUttered)]
    expected = DOMAIN.responses[action_timeouts.APOLOGY_RESPONSE][0]
    assert apology.text == expected["text"]
    for must in ("110", "96110", "冻结"):
        assert must in apology.text
    assert [button["title"] for button in apology.data["buttons"]] == ["转人工"]


async def test_an_answering_action_server_is_used_as_before() -> None:
    body = b'{"events": [], "responses": [{"response": "utter_greet"}]}'
    async for fake in serve(FakeActionServer(lambda: http_answer("200 OK", body))):
        events = await run(action_timeouts._ApologisingAction(remote(fake.port)))
    (greeting,) = events
    assert greeting.text == DOMAIN.responses["utter_greet"][0]["text"]

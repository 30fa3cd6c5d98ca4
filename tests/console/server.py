"""The agent console served in-process on a free loopback port (aiohttp in its own thread)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from pos_assistant.cases.store import CaseStore
from pos_assistant.console.app import create_app
from pos_assistant.console.auth import CSRF_HEADER
from pos_assistant.handoff.service import HandoffService
from pos_assistant.settings import Settings
from pos_assistant.staff.cli import main as staff_main
from tests.e2e.stack import PROJECT_ROOT, VENV_BIN, free_port, wait_until_up

PASSWORD = "correct horse battery"

TRACKER = {
    "slots": {"situation": "unordered_device"},
    "events": [
        {
            "event": "user",
            "timestamp": 1_800_000_000,
            "text": "收到一台没买的pos机，电话13812345678",
            "parse_data": {
                "intent": {"name": "report_unordered_device", "confidence": 0.93},
                "entities": [{"entity": "brand", "value": "拉卡拉"}],
            },
        },
        {"event": "bot", "timestamp": 1_800_000_005, "text": "已为您转接人工客服，请稍候。"},
    ],
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


class RasaStandIn:
    """Records what the handoff service would send to Rasa."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.resumed: list[str] = []
        self.tracker: dict[str, Any] = TRACKER

    def fetch(self, _url: str, _token: str, conversation_id: str) -> dict[str, Any]:
        return self.tracker

    def send(self, _url: str, _token: str, conversation_id: str, text: str, agent: str) -> None:
        self.sent.append((conversation_id, text, agent))

    def resume(self, _url: str, _token: str, conversation_id: str) -> None:
        self.resumed.append(conversation_id)


@dataclass
class RunningConsole:
    url: str
    store: CaseStore

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def add_account(self, username: str, role: str = "agent", password: str = PASSWORD) -> None:
        out = io.StringIO()
        code = staff_main(
            ["agents", "add", username, "--role", role],
            store=self.store,
            out=out,
            stdin=io.StringIO(password + "\n"),
        )
        assert code == 0, out.getvalue()

    def login(self, username: str, password: str = PASSWORD) -> httpx.Client:
        """A client with the session cookie and the CSRF header set."""
        client = self.client()
        answer = client.post("/api/login", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        client.headers[CSRF_HEADER] = answer.json()["csrf_token"]
        return client


@contextmanager
def running_console(
    store: CaseStore, settings: Settings, handoffs: HandoffService | None = None
) -> Iterator[RunningConsole]:
    port = free_port()
    loop = asyncio.new_event_loop()
    app = create_app(settings, store=store, handoffs=handoffs, secret_key=b"test-signing-key")
    runner = web.AppRunner(app, shutdown_timeout=1)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30), "the console did not start"
    try:
        yield RunningConsole(f"http://127.0.0.1:{port}", store)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)


@dataclass
class ConsoleProcess:
    """`python -m pos_assistant.console` as make run starts it, on a free port."""

    url: str
    env: dict[str, str]

    def add_account(self, username: str, role: str = "agent", password: str = PASSWORD) -> None:
        result = subprocess.run(
            [
                str(VENV_BIN / "python"),
                "-m",
                "pos_assistant.staff",
                "agents",
                "add",
                username,
                "--role",
                role,
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            input=password + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def login(self, username: str, password: str = PASSWORD) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60)
        answer = client.post("/api/login", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        client.headers[CSRF_HEADER] = answer.json()["csrf_token"]
        return client


@contextmanager
def running_console_process(stack_env: dict[str, str], workdir: Path) -> Iterator[ConsoleProcess]:
    """The console next to a running stack: same database, same Rasa and API token."""
    port = free_port()
    env = {**stack_env, "CONSOLE_SECRET_KEY": "e2e-console-key", "PYTHONPATH": str(PROJECT_ROOT)}
    log = workdir / "console.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "python"),
                "-m",
                "pos_assistant.console",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/health", process, log, 120)
        yield ConsoleProcess(url, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()

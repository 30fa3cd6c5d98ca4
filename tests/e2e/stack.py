"""Starts the real action server and Rasa server on free ports for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from pos_assistant import identity
from tests.paths import PROJECT_ROOT

MODEL_PATH = PROJECT_ROOT / "models" / "pos-assistant.tar.gz"
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
API_TOKEN = "e2e-test-token"


def rest_conversation(sender: str) -> str:
    """The conversation id of REST sender `sender` (e.g. for the staff tool)."""
    return conversation_id(sender, "rest")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout}s:\n{log.read_text()[-4000:]}")


@dataclass
class RasaStack:
    """A running action server + Rasa server pair and what the tests need to talk to them."""

    rasa_url: str
    action_url: str
    workdir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def send(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        """Sends one message over the REST channel and returns the assistant's replies."""
        body: dict = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = httpx.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def texts(self, sender: str, text: str) -> str:
        """Sends a message and returns all reply texts (and button titles) joined by newlines."""
        parts: list[str] = []
        for reply in self.send(sender, text):
            if reply.get("text"):
                parts.append(reply["text"])
            parts.extend(button["title"] for button in reply.get("buttons", []))
        return "\n".join(parts)

    def tracker(self, sender: str, channel: str = "rest") -> dict:
        """The conversation of `sender` on `channel` ("rest", "wechat" or "socketio")."""
        conversation = quote(conversation_id(sender, channel), safe=":")  # Rasa does not decode
        response = httpx.get(
            f"{self.rasa_url}/conversations/{conversation}/tracker",
            params={"token": API_TOKEN},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


def conversation_id(sender: str, channel: str = "rest") -> str:
    """The id Rasa keeps a channel sender's conversation under: the one place for its format
    in the tests (the staff tool and the tracker API take this id)."""
    return identity.conversation_id(channel, sender)


def model_under_test() -> Path:
    """The model under test: models/pos-assistant.tar.gz, or E2E_MODEL_PATH to try another one."""
    return Path(os.environ.get("E2E_MODEL_PATH") or MODEL_PATH)


def write_endpoints(workdir: Path, action_port: int, extra: str = "") -> Path:
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n"
        "tracker_store:\n"
        "  type: pos_assistant.tracker_store.MaskingSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {workdir / 'tracker.db'}\n" + extra,
        encoding="utf-8",
    )
    return endpoints


# Far longer than any test takes between a handoff and the next message, so no reminder comes
# early on a loaded machine; the reminder test backdates a conversation instead of sleeping.
HANDOFF_REMINDER_SECONDS = 1800


def action_server_command(port: int) -> list[str]:
    """The action server as `make run` starts it: loopback only (ACTION_HOST's default)."""
    return [
        str(VENV_BIN / "python"),
        "-m",
        "pos_assistant.action_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--actions",
        "actions",
    ]


def stack_env(
    workdir: Path, rasa_port: int, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The test servers' environment: this checkout's code, a database and files in `workdir`."""
    return {
        **os.environ,
        # The servers import this checkout's code (the venv may be shared with another one).
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": f"sqlite:///{workdir / 'cases.db'}",
        "ATTACHMENTS_DIR": str(workdir / "attachments"),
        "RASA_API_TOKEN": API_TOKEN,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "WECHAT_TOKEN": "e2e-wechat-token",
        # Passive WeChat replies regardless of machine load; the late path has its own stack.
        "WECHAT_REPLY_DEADLINE_SECONDS": "60",
        "HANDOFF_REMINDER_SECONDS": str(HANDOFF_REMINDER_SECONDS),
        # Every test client is 127.0.0.1: per-address limits would make tests depend on each
        # other. The per-conversation limits stay at their defaults (tests/security tests them).
        "LOOKUP_FAILURES_PER_ADDRESS": "100000",
        "CASES_PER_ADDRESS": "100000",
        "HANDOFFS_PER_ADDRESS": "100000",
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # No telemetry or crash reports to Rasa's servers: tests talk to loopback only.
        "RASA_TELEMETRY_ENABLED": "false",
        **(extra_env or {}),
    }


@contextmanager
def running_stack(
    workdir: Path, extra_env: dict[str, str] | None = None, rasa_args: tuple[str, ...] = ()
) -> Iterator[RasaStack]:
    model_path = model_under_test()
    if not model_path.exists():
        raise RuntimeError(f"{model_path} is missing: run `make train` first")
    workdir.mkdir(parents=True, exist_ok=True)
    action_port, rasa_port = free_port(), free_port()
    env = stack_env(workdir, rasa_port, extra_env)
    endpoints = write_endpoints(workdir, action_port)
    stack = RasaStack(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        workdir=workdir,
        env=env,
    )
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    try:
        with action_log.open("w") as action_out, rasa_log.open("w") as rasa_out:
            actions = subprocess.Popen(
                action_server_command(action_port),
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=action_out,
                stderr=subprocess.STDOUT,
            )
            stack.processes.append(actions)
            rasa = subprocess.Popen(
                [
                    str(VENV_BIN / "rasa"),
                    "run",
                    "--model",
                    str(model_path),
                    "--port",
                    str(rasa_port),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    str(PROJECT_ROOT / "credentials.yml"),
                    "--enable-api",
                    "--auth-token",
                    API_TOKEN,
                    *rasa_args,
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=rasa_out,
                stderr=subprocess.STDOUT,
            )
            stack.processes.append(rasa)
            wait_until_up(f"{stack.action_url}/health", actions, action_log, 120)
            wait_until_up(f"{stack.rasa_url}/status?token={API_TOKEN}", rasa, rasa_log, 300)
            yield stack
    finally:
        for process in stack.processes:
            process.terminate()
        for process in stack.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


class WebServer:
    """web/server.py (demo page + widget, relaying socket.io to Rasa) on a fixed free port.

    `stop()` then `start()` simulates a network drop for the widget: same URL, new process.
    """

    def __init__(self, rasa_url: str, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.rasa_url = rasa_url
        self.env = {**os.environ, **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "web.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    str(VENV_BIN / "python"),
                    "-m",
                    "web.server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--rasa-url",
                    self.rasa_url,
                ],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(f"{self.url}/health", self.process, self.log, 30)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


@contextmanager
def running_web_server(
    rasa_url: str, workdir: Path, env: dict[str, str] | None = None
) -> Iterator[WebServer]:
    server = WebServer(rasa_url, workdir, env)
    server.start()
    try:
        yield server
    finally:
        server.stop()

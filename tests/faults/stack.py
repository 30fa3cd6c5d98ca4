"""The real action server and Rasa server, each of which a fault test can hang, kill and restart
on the same ports, database and WeChat API stand-in."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.e2e.stack import (
    API_TOKEN,
    VENV_BIN,
    RasaStack,
    action_server_command,
    free_port,
    model_under_test,
    stack_env,
    wait_until_up,
    write_endpoints,
)
from tests.paths import PROJECT_ROOT

WECHAT_TOKEN = "faults-wechat-token"
WECHAT_APPID = "wx-faults-appid"
WECHAT_SECRET = "faults-app-secret"


@dataclass
class Server:
    name: str
    command: list[str]
    health_url: str
    log: Path
    env: dict[str, str]
    process: subprocess.Popen | None = field(default=None)

    def start(self, timeout: float) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(self.health_url, self.process, self.log, timeout)

    def hang(self) -> None:
        """SIGSTOP: as a stuck process or a dead database connection would look."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.resume()  # a stopped process cannot handle SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


class FaultStack(RasaStack):
    """RasaStack's helpers (send, texts, tracker) on servers the tests can break."""

    actions: Server
    rasa: Server


def fault_stack(workdir: Path, wechat_api_url: str) -> FaultStack:
    """SQLite for cases and conversations, and the WeChat API stand-in."""
    workdir.mkdir(parents=True, exist_ok=True)
    action_port, rasa_port = free_port(), free_port()
    env = stack_env(
        workdir,
        rasa_port,
        {
            "WECHAT_TOKEN": WECHAT_TOKEN,
            "WECHAT_APPID": WECHAT_APPID,
            "WECHAT_APPSECRET": WECHAT_SECRET,
            "WECHAT_API_BASE_URL": wechat_api_url,
            # Every WeChat answer goes out late, through the outbox; retries come quickly.
            "WECHAT_REPLY_DEADLINE_SECONDS": "0.01",
            "OUTBOX_FIRST_RETRY_SECONDS": "0.5",
        },
    )
    return _stack(workdir, env, action_port, rasa_port, write_endpoints(workdir, action_port))


def production_fault_stack(
    workdir: Path, tracker_db_url: str, redis_port: int, case_db_url: str
) -> FaultStack:
    """The production stores (endpoints.production.yml): conversations in PostgreSQL, the lock
    store in Redis, cases in a PostgreSQL database of their own."""
    workdir.mkdir(parents=True, exist_ok=True)
    action_port, rasa_port = free_port(), free_port()
    tracker = make_url(tracker_db_url)
    env = stack_env(
        workdir,
        rasa_port,
        {
            "DATABASE_URL": case_db_url,
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
            "TRACKER_DB_HOST": tracker.host or "127.0.0.1",
            "TRACKER_DB_PORT": str(tracker.port),
            "TRACKER_DB_NAME": tracker.database or "",
            "TRACKER_DB_USER": tracker.username or "postgres",
            "TRACKER_DB_PASSWORD": tracker.password or "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_port),
        },
    )
    endpoints = PROJECT_ROOT / "endpoints.production.yml"
    return _stack(workdir, env, action_port, rasa_port, endpoints)


def _stack(
    workdir: Path, env: dict[str, str], action_port: int, rasa_port: int, endpoints: Path
) -> FaultStack:
    stack = FaultStack(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        workdir=workdir,
        env=env,
    )
    stack.actions = Server(
        "actions",
        action_server_command(action_port),
        f"{stack.action_url}/health",
        workdir / "actions.log",
        env,
    )
    stack.rasa = Server(
        "rasa",
        [
            str(VENV_BIN / "rasa"),
            "run",
            "--model",
            str(model_under_test()),
            "--port",
            str(rasa_port),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(PROJECT_ROOT / "credentials.yml"),
            "--enable-api",
            "--auth-token",
            API_TOKEN,
        ],
        f"{stack.rasa_url}/status?token={API_TOKEN}",
        workdir / "rasa.log",
        env,
    )
    return stack

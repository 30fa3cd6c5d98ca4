"""The processes `make bench` starts: action server, Rasa servers, PostgreSQL, Redis, a proxy.

Everything listens on 127.0.0.1 on a free port and is stopped by `ProcessGroup.stop_all()`.
CPU time and memory are read from /proc (the processes' own accounting, children included).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.e2e.stack import (
    PROJECT_ROOT,
    VENV_BIN,
    action_server_command,
    free_port,
    wait_until_up,
)
from tests.pg import _wait_until_accepting, init_cluster, postgres_bin_dir, server_command

API_TOKEN = "bench-api-token"
# The REST channel asks for this bearer token where it is configured to; sent on every message.
REST_TOKEN = "bench-rest-token"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rasa_server_command(model: Path, port: int, endpoints: Path) -> list[str]:
    return [
        str(VENV_BIN / "rasa"),
        "run",
        "--model",
        str(model),
        "--port",
        str(port),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(PROJECT_ROOT / "credentials.yml"),
        "--enable-api",
        "--auth-token",
        API_TOKEN,
    ]


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found: list[int] = []
        for task in tasks:
            children = (task / "children").read_text().split()
            found.extend(int(child) for child in children)
        return found
    except OSError:
        return []


def process_tree(pid: int) -> list[int]:
    """pid and all its live descendants."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(_children(current))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of pid's process tree, including its reaped children."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the ")": state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based).
        total += sum(int(value) for value in fields[11:15])
    return total / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of pid's process tree in MB."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return round(total_kb / 1024, 1)


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log: Path
    url: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        return rss_mb(self.pid)


@dataclass
class ProcessGroup:
    """Started processes, stopped in reverse order (SIGTERM, then SIGKILL after 20 s)."""

    workdir: Path
    env: dict[str, str]
    servers: list[Server] = field(default_factory=list)

    def start(self, name: str, command: list[str], url: str = "", **popen: object) -> Server:
        log = self.workdir / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                **popen,  # type: ignore[arg-type]
            )
        server = Server(name, process, log, url)
        self.servers.append(server)
        return server

    def stop(self, server: Server) -> None:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        if server in self.servers:
            self.servers.remove(server)

    def stop_all(self) -> None:
        for server in reversed(list(self.servers)):
            self.stop(server)

    def action_server(self) -> Server:
        port = free_port()
        server = self.start("actions", action_server_command(port), f"http://127.0.0.1:{port}")
        wait_until_up(f"{server.url}/health", server.process, server.log, 180)
        return server

    def rasa_server(self, name: str, model: Path, endpoints: Path, env: dict[str, str]) -> Server:
        port = free_port()
        log = self.workdir / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                rasa_server_command(model, port, endpoints),
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(name, process, log, f"http://127.0.0.1:{port}")
        self.servers.append(server)
        return server

    def wait_rasa(self, server: Server) -> None:
        wait_until_up(f"{server.url}/status?token={API_TOKEN}", server.process, server.log, 600)

    def proxy(self, backends: list[str]) -> Server:
        port = free_port()
        command = [sys.executable, "-m", "bench.proxy", "--port", str(port)]
        for backend in backends:
            command += ["--backend", backend]
        server = self.start(f"proxy-{len(backends)}", command, f"http://127.0.0.1:{port}")
        wait_until_up(f"{server.url}/proxy-health", server.process, server.log, 60)
        return server

    def postgres(self) -> tuple[Server, str]:
        """A throwaway PostgreSQL (as tests/pg.py starts it); returns it and its admin URL."""
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL binaries not found (scripts/setup_system.sh)")
        base = Path(tempfile.mkdtemp(prefix="pos-bench-pg-"))
        init_cluster(bin_dir, base)
        port = free_port()
        server = self.start("postgres", server_command(bin_dir, base, port, max_connections=100))
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
        _wait_until_accepting(url, server.process, server.log)
        return server, url

    def redis(self) -> tuple[Server, int]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found (scripts/setup_system.sh)")
        port = free_port()
        server = self.start(
            "redis",
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.workdir),
            ],
        )
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(150):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.process.poll() is not None:
                    raise RuntimeError("redis-server exited") from None
                time.sleep(0.2)
        client.close()
        return server, port


def sqlite_endpoints(path: Path, action_url: str, tracker_db: Path) -> Path:
    """The embedded setup of `make run`: SQLite tracker store, in-process lock store."""
    path.write_text(
        f"action_endpoint:\n  url: {action_url}/webhook\n"
        "tracker_store:\n"
        "  type: pos_assistant.tracker_store.MaskingSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {tracker_db}\n",
        encoding="utf-8",
    )
    return path

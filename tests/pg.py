"""A throwaway PostgreSQL server for tests (Debian's postgresql binaries, as CI installs them).

`postgres_server_url` (session fixture) runs initdb in a temporary folder, starts postgres on a
free port (as `nobody` when the tests run as root: postgres refuses to run as root), yields an
admin URL and stops the server at the end. `new_database(admin_url)` creates an empty database
per test so migrations always start from nothing. Tests using it are marked `postgres`; they are
skipped only when the binaries are missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.e2e.stack import free_port

SERVER_START_TIMEOUT_SECONDS = 60


def postgres_bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "nobody", "--", *command]


def init_cluster(bin_dir: Path, base: Path) -> None:
    """initdb into `base`/data, owned by the server user (postgres refuses to run as root)."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(base / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )


def server_command(bin_dir: Path, base: Path, port: int, max_connections: int) -> list[str]:
    """postgres on 127.0.0.1:`port` for the cluster in `base`, without fsync (throwaway data)."""
    return _as_server_user(
        [
            str(bin_dir / "postgres"),
            "-D",
            str(base / "data"),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(base),
            "-c",
            "fsync=off",
            "-c",
            f"max_connections={max_connections}",
        ]
    )


def _wait_until_accepting(url: str, process: subprocess.Popen, log_path: Path) -> None:
    engine = create_engine(url, future=True)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"postgres exited early:\n{log_path.read_text()[-3000:]}")
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except Exception:
                time.sleep(0.3)
        raise RuntimeError(f"postgres did not start:\n{log_path.read_text()[-3000:]}")
    finally:
        engine.dispose()


class PostgresServer:
    """A throwaway cluster on a free port, which a test can stop and start again (same port)."""

    def __init__(self, bin_dir: Path, max_connections: int = 60) -> None:
        self._bin_dir = bin_dir
        self._max_connections = max_connections
        # Not under pytest's tmp dir: that one is private to root, and the server runs as nobody.
        self.base = Path(tempfile.mkdtemp(prefix="pos-assistant-pg-"))
        self.log_path = self.base / "postgres.log"
        init_cluster(bin_dir, self.base)
        self.port = free_port()
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "a") as log:
            if os.geteuid() == 0:
                os.chown(self.log_path, pwd.getpwnam("nobody").pw_uid, -1)
            self.process = subprocess.Popen(
                server_command(self._bin_dir, self.base, self.port, self._max_connections),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_until_accepting(self.url, self.process, self.log_path)

    def stop(self, fast: bool = False) -> None:
        """SIGTERM ("smart": waits for clients to leave) or, `fast`, SIGINT (ends their
        sessions, as `systemctl stop postgresql` does)."""
        if self.process is None:
            return
        # The postmaster itself: under root, self.process is runuser, which forwards SIGTERM only.
        pid_file = self.base / "data" / "postmaster.pid"
        try:
            postmaster = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            postmaster = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(postmaster, signal.SIGINT if fast else signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.stop(fast=True)
        shutil.rmtree(self.base, ignore_errors=True)


def require_postgres_bin_dir() -> Path:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin "
            "(install them: apt-get install -y postgresql, or scripts/setup_system.sh)"
        )
    return bin_dir


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    server = PostgresServer(require_postgres_bin_dir())
    try:
        server.start()
        yield server.url
    finally:
        server.stop()
        server.remove()


def new_database(admin_url: str) -> str:
    """Creates an empty database on the test server and returns its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

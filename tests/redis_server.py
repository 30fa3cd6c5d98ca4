"""A throwaway Redis server for tests (Debian's redis-server, as CI installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.e2e.stack import free_port


class RedisServer:
    """redis-server on a free port, which a test can stop and start again (same port)."""

    def __init__(self, binary: str) -> None:
        self._binary = binary
        self.workdir = Path(tempfile.mkdtemp(prefix="pos-assistant-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self._binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--dir", str(self.workdir)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            # Redis (its jemalloc) cannot start under libfaketime, which `faketime` runs use to
            # test the suite a year ahead; Redis's own clock does not matter to the tests.
            env={
                k: v
                for k, v in os.environ.items()
                if k != "LD_PRELOAD" and not k.startswith("FAKETIME")
            },
        )
        client = redis.Redis(host="127.0.0.1", port=self.port)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.2)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=20)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def require_redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "redis-server not found (apt-get install -y redis-server, or scripts/setup_system.sh)"
        )
    return binary


@pytest.fixture(scope="session")
def redis_server_port() -> Iterator[int]:
    server = RedisServer(require_redis_binary())
    try:
        server.start()
        yield server.port
    finally:
        server.remove()

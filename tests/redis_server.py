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


@pytest.fixture(scope="session")
def redis_server_port() -> Iterator[int]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "redis-server not found (apt-get install -y redis-server, or scripts/setup_system.sh)"
        )
    workdir = Path(tempfile.mkdtemp(prefix="pos-assistant-redis-"))
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        # Redis (its jemalloc) cannot start under libfaketime, which `faketime` runs use to test
        # the suite a year ahead; Redis's own clock does not matter to the tests.
        env={
            k: v
            for k, v in os.environ.items()
            if k != "LD_PRELOAD" and not k.startswith("FAKETIME")
        },
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)

"""`APP_ENV=production` refuses to start the WeChat channel without a token: the real
`rasa run` with the project's credentials.yml exits with the reason instead of serving."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import PROJECT_ROOT, VENV_BIN, free_port, model_under_test

pytestmark = pytest.mark.e2e


def test_production_without_a_wechat_token_does_not_start(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "WECHAT_TOKEN": "",  # set and empty: the environment wins over any .env
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_API_TOKEN": "production-test-token",
        # Set, so that the REST channel's own production check passes and WeChat's is the one seen.
        "REST_API_TOKEN": "production-rest-token",
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:9/webhook",  # endpoints.yml reads it
    }
    log = tmp_path / "rasa.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "rasa"),
                "run",
                "--model",
                str(model_under_test()),
                "--credentials",
                str(PROJECT_ROOT / "credentials.yml"),
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
        # Either it exits (the refusal) or it ends up serving (the failure this test is for).
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                pytest.fail("the server started in production without a WeChat token")
            except httpx.HTTPError:
                time.sleep(0.5)
        output = log.read_text(encoding="utf-8")
        assert process.poll() not in (None, 0), output[-3000:]
        assert "WECHAT_TOKEN must be set in production" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=20)

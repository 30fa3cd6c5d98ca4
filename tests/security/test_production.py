"""Production settings (APP_ENV=production) against the real servers: the REST channel needs its
bearer token, the server refuses to start without it or with the development WeChat token, and
WeChat's secrets stay out of the logs even when its API cannot be reached."""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_assistant.channels.wechat import DEVELOPMENT_TOKEN
from tests.e2e.stack import (
    PROJECT_ROOT,
    VENV_BIN,
    RasaStack,
    free_port,
    model_under_test,
    running_stack,
)
from tests.fakes.wechat_api import running_fake_wechat_api
from tests.fakes.wechat_server import post_signed, text_message

pytestmark = pytest.mark.e2e

REST_PATH = "/webhooks/rest/webhook"
REST_TOKEN = "prod-rest-token-for-tests"
WECHAT_TOKEN = "prod-wechat-token-for-tests"
APPID = "wx-prod-appid"
APPSECRET = "prod-app-S3CR3T-for-tests"
STARTUP_SECONDS = 240
_msg_ids = itertools.count(int(time.time() * 1000))


@pytest.fixture(scope="module")
def api_port() -> int:
    """The port of the WeChat API stand-in; nothing listens there until a test starts it."""
    return free_port()


@pytest.fixture(scope="module")
def production_stack(
    tmp_path_factory: pytest.TempPathFactory, api_port: int
) -> Iterator[RasaStack]:
    extra_env = {
        "APP_ENV": "production",
        "REST_API_TOKEN": REST_TOKEN,
        "WECHAT_TOKEN": WECHAT_TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_APPSECRET": APPSECRET,
        "WECHAT_API_BASE_URL": f"http://127.0.0.1:{api_port}/",
        # Every WeChat answer goes through the customer-service API (the path that logs errors).
        "WECHAT_REPLY_DEADLINE_SECONDS": "0.01",
        "TRUSTED_PROXY": "127.0.0.1",
    }
    with running_stack(tmp_path_factory.mktemp("production"), extra_env) as stack:
        yield stack


def rest(stack: RasaStack, sender: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"sender": sender, "message": "你好"}
    return httpx.post(stack.rasa_url + REST_PATH, json=body, headers=headers, timeout=60)


@pytest.mark.parametrize(
    "headers",
    [None, {"Authorization": "Bearer wrong"}, {"Authorization": REST_TOKEN}],
    ids=["no-token", "wrong-token", "no-bearer-scheme"],
)
def test_production_rest_without_the_bearer_token_is_refused(
    production_stack: RasaStack, sender: str, headers: dict[str, str] | None
) -> None:
    answer = rest(production_stack, sender, headers)
    assert answer.status_code == 401
    events = production_stack.tracker(sender)["events"]
    assert [event for event in events if event["event"] == "user"] == []


def test_production_rest_with_the_bearer_token_answers(
    production_stack: RasaStack, sender: str
) -> None:
    headers = {"Authorization": f"Bearer {REST_TOKEN}", "X-Forwarded-For": "203.0.113.9"}
    answer = rest(production_stack, sender, headers)
    assert answer.status_code == 200 and answer.json()
    user = [e for e in production_stack.tracker(sender)["events"] if e["event"] == "user"]
    # Behind a trusted proxy (TRUSTED_PROXY=127.0.0.1) the forwarded address is the client's.
    assert user[-1]["metadata"]["client_address"] == "203.0.113.9"


def test_wechat_secrets_never_reach_the_logs(
    production_stack: RasaStack, api_port: int, sender: str
) -> None:
    log = production_stack.workdir / "rasa.log"

    def deliver(openid: str) -> None:
        body = text_message(openid, "你好", next(_msg_ids))
        answer = post_signed(production_stack.rasa_url, WECHAT_TOKEN, body)
        assert (answer.status_code, answer.text) == (200, "success")

    def failures_logged() -> int:
        # Sent at once ("…message failed") or through the outbox ("Outbox message N not sent (…)").
        text = log.read_text()
        return text.count("customer-service message failed") + text.count(" not sent (")

    def wait_for_a_failure_after(count: int) -> None:
        deadline = time.monotonic() + 60
        while failures_logged() <= count:
            assert time.monotonic() < deadline, "the failed delivery was never logged"
            time.sleep(0.5)

    # WeChat's API unreachable: fetching the access token fails with the secret in its URL.
    deliver(f"{sender}-a")
    wait_for_a_failure_after(0)
    with running_fake_wechat_api(APPID, APPSECRET, port=api_port) as api:
        deliver(f"{sender}-b")
        assert api.wait_for_messages(f"{sender}-b")
        issued = list(api.tokens_issued)
    # Unreachable again: sending fails with the (cached) access token in its URL.
    before = failures_logged()
    deliver(f"{sender}-c")
    wait_for_a_failure_after(before)

    text = log.read_text()
    assert "Max retries exceeded" in text  # the errors that carry URLs were logged...
    assert APPSECRET not in text  # ...without the secret
    assert issued and not any(token in text for token in issued)  # ...or the access token
    assert WECHAT_TOKEN not in text and REST_TOKEN not in text


def start_rasa_until_it_stops(env_changes: dict[str, str], workdir: Path) -> tuple[int, str]:
    """Starts only the Rasa server; returns its exit status and output once it stopped.

    Fails the test if the server comes up instead (it would have accepted the settings).
    """
    port = free_port()
    env = {**os.environ, "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "2", **env_changes}
    log = workdir / "rasa.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "rasa"),
                "run",
                "--model",
                str(model_under_test()),
                "--port",
                str(port),
                "--credentials",
                str(PROJECT_ROOT / "credentials.yml"),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while process.poll() is None:
            assert time.monotonic() < deadline, "the server neither started nor stopped"
            try:
                up = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
            except httpx.HTTPError:
                up = False
            assert not up, "the server started with settings it must refuse"
            time.sleep(0.5)
        return process.returncode, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_production_refuses_to_start_without_a_rest_token(tmp_path: Path) -> None:
    status, output = start_rasa_until_it_stops(
        {"APP_ENV": "production", "WECHAT_TOKEN": WECHAT_TOKEN, "REST_API_TOKEN": ""}, tmp_path
    )
    assert status != 0
    assert "REST_API_TOKEN must be set in production" in output


def test_production_refuses_to_start_with_the_development_wechat_token(tmp_path: Path) -> None:
    status, output = start_rasa_until_it_stops(
        {"APP_ENV": "production", "WECHAT_TOKEN": DEVELOPMENT_TOKEN, "REST_API_TOKEN": REST_TOKEN},
        tmp_path,
    )
    assert status != 0
    assert "public development token" in output

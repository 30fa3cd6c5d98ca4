"""A WeChat conversation handed to a person, worked through the console's JSON API alone, against
the real Rasa server, action server and console; the WeChat API is the local stand-in."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx
import pytest

from tests.console.server import ConsoleProcess, running_console_process
from tests.e2e.stack import RasaStack, conversation_id, running_stack
from tests.fakes.wechat_api import FakeWeChatApi, running_fake_wechat_api
from tests.fakes.wechat_server import post_signed, reply_fields, text_message

pytestmark = pytest.mark.e2e

APPID, APPSECRET, TOKEN = "wx-console-appid", "console-app-secret", "console-wechat-token"
OPENID = "o-console-flow"
_msg_ids = itertools.count(int(time.time() * 1000))


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeWeChatApi]:
    with running_fake_wechat_api(APPID, APPSECRET) as api:
        yield api


@pytest.fixture(scope="module")
def wechat_stack(
    tmp_path_factory: pytest.TempPathFactory, fake_api: FakeWeChatApi
) -> Iterator[RasaStack]:
    extra_env = {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_APPSECRET": APPSECRET,
        "WECHAT_API_BASE_URL": fake_api.url,
    }
    with running_stack(tmp_path_factory.mktemp("console-wechat"), extra_env) as stack:
        yield stack


@pytest.fixture(scope="module")
def console(
    wechat_stack: RasaStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleProcess]:
    with running_console_process(wechat_stack.env, tmp_path_factory.mktemp("console")) as running:
        running.add_account("lead1", "lead")
        running.add_account("agent1")
        running.add_account("agent2")
        yield running


def wechat_says(stack: RasaStack, text: str) -> str:
    """The passive reply's text ("" when the assistant stays quiet)."""
    answer = post_signed(stack.rasa_url, TOKEN, text_message(OPENID, text, next(_msg_ids)))
    assert answer.status_code == 200, answer.text
    if answer.text in ("", "success"):
        return ""
    return reply_fields(answer.text).get("Content", "")


def first_event(client: httpx.Client, path: str, kind: str) -> dict:
    """The first server-sent event of `kind` on `path`."""
    with client.stream("GET", path, timeout=60) as stream:
        event = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event == kind:
                return json.loads(line[len("data: ") :])
    raise AssertionError(f"no {kind} event")


def test_a_wechat_handoff_through_the_api_alone(
    wechat_stack: RasaStack, console: ConsoleProcess, fake_api: FakeWeChatApi
) -> None:
    conversation = conversation_id(OPENID, "wechat")
    path = f"/api/conversations/{quote(conversation, safe='')}"
    agent, other, lead = console.login("agent1"), console.login("agent2"), console.login("lead1")

    wechat_says(wechat_stack, "我没买POS机却收到一台，电话13812345678")
    assert "转接人工客服" in wechat_says(wechat_stack, "转人工")

    # The queue (as the page gets it: the first server-sent event) has the conversation.
    queue = first_event(agent, "/api/events", "queue")["handoffs"]
    [entry] = [item for item in queue if item["conversation_id"] == conversation]
    assert entry["channel"] == "wechat" and entry["status"] == "waiting"
    assert agent.get("/api/handoffs").json()["handoffs"][0]["conversation_id"] == conversation

    view = agent.get(path).json()
    users = [item for item in view["transcript"] if item["speaker"] == "user"]
    assert users[0]["text"] == "我没买POS机却收到一台，电话138****5678"
    assert users[0]["reading"]["intent"] == "report_unordered_device"
    assert users[0]["reading"]["confidence"] > 0.5
    assert users[-1]["reading"]["intent"] == "request_human"
    assert view["situation"]["code"] == "unordered_device" and view["situation"]["steps"]
    assert view["suggestions"] and view["case"] is None
    window_end = datetime.fromisoformat(view["wechat_window_ends"])
    left = window_end - datetime.now(timezone.utc)
    assert timedelta(hours=47) < left <= timedelta(hours=48)

    assert agent.post(f"{path}/take").json()["taken_by"] == "agent1"
    refused = other.post(f"{path}/take")
    assert refused.status_code == 409 and refused.json()["owner"] == "agent1"

    # An edited suggestion reaches the WeChat user as a customer-service message.
    already = len(fake_api.messages_to(OPENID))
    text = view["suggestions"][0] + " 机器是哪天收到的？"
    assert agent.post(f"{path}/reply", json={"text": text}).status_code == 200
    deadline = time.monotonic() + 60
    while len(fake_api.messages_to(OPENID)) <= already and time.monotonic() < deadline:
        time.sleep(0.2)
    sent = fake_api.messages_to(OPENID)[already:]
    assert [message["text"]["content"] for message in sent] == [text]

    # The customer's next message: the assistant stays quiet, the console reads it.
    assert wechat_says(wechat_stack, "昨天收到的，快递是顺丰") == ""
    latest = agent.get(path).json()["transcript"]
    assert [item["text"] for item in latest if item["speaker"] == "agent"] == [text]
    assert latest[-1]["speaker"] == "user" and latest[-1]["text"] == "昨天收到的，快递是顺丰"
    assert latest[-1]["reading"]["intent"]

    assert other.post(f"{path}/release", json={"summary": "x"}).status_code == 409
    summary = "已告知拒收和退回方式"
    assert agent.post(f"{path}/release", json={"summary": summary}).status_code == 200
    assert agent.get(path).status_code == 404  # no longer in the queue
    assert all(
        item["conversation_id"] != conversation
        for item in agent.get("/api/handoffs").json()["handoffs"]
    )

    # The assistant answers again, and never repeats the summary to the customer.
    answer = wechat_says(wechat_stack, "我没买POS机却收到一台")
    assert answer and summary not in answer
    assert all(summary not in m["text"]["content"] for m in fake_api.messages_to(OPENID))

    audit = lead.get("/api/audit", params={"target": conversation}).json()["entries"]
    done = [entry["action"] for entry in reversed(audit) if entry["actor"] == "agent1"]
    assert done.index("conversation.view") < done.index("handoff.take")
    assert done.index("handoff.take") < done.index("handoff.reply") < done.index("handoff.release")

"""WeChat safe mode and the slow path, on a second stack with an AES key, a tiny reply deadline and
the local stand-in for api.weixin.qq.com."""

from __future__ import annotations

import base64
import itertools
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.stack import RasaStack, conversation_id, running_stack
from tests.e2e.test_conversation_flows import staff
from tests.fakes.wechat_api import FakeWeChatApi, running_fake_wechat_api
from tests.fakes.wechat_server import (
    SafeModeWeChat,
    post,
    signed_query,
    text_message,
    voice_message,
)

pytestmark = pytest.mark.e2e

APPID = "wx-e2e-appid"
APPSECRET = "e2e-app-secret"
TOKEN = "e2e-safe-mode-token"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")
CHANNEL_TEXTS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "channels" / "wechat.yml").read_text("utf-8")
)
_msg_ids = itertools.count(int(time.time() * 1000))


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeWeChatApi]:
    with running_fake_wechat_api(APPID, APPSECRET) as api:
        yield api


@pytest.fixture(scope="module")
def slow_stack(
    tmp_path_factory: pytest.TempPathFactory, fake_api: FakeWeChatApi
) -> Iterator[RasaStack]:
    extra_env = {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_APPSECRET": APPSECRET,
        "WECHAT_ENCODING_AES_KEY": AES_KEY,
        "WECHAT_API_BASE_URL": fake_api.url,
        "WECHAT_REPLY_DEADLINE_SECONDS": "0.01",
    }
    # At debug level the Rasa server logs every user message: the log masking test reads it.
    with running_stack(
        tmp_path_factory.mktemp("wechat-slow"), extra_env, rasa_args=("--debug",)
    ) as stack:
        yield stack


@pytest.fixture
def wechat() -> SafeModeWeChat:
    return SafeModeWeChat(TOKEN, AES_KEY, APPID)


def user_turns(stack: RasaStack, openid: str) -> list[dict]:
    return [
        event for event in stack.tracker(openid, "wechat")["events"] if event["event"] == "user"
    ]


def test_an_encrypted_message_gets_an_encrypted_reply(
    slow_stack: RasaStack, wechat: SafeModeWeChat, sender: str
) -> None:
    # A voice message needs no assistant turn: answered passively even with the tiny deadline.
    query, body = wechat.encrypted_request(voice_message(sender, next(_msg_ids)))
    answer = post(slow_stack.rasa_url, query, body)
    assert answer.status_code == 200, answer.text
    reply = wechat.decrypt_reply(answer.text)
    assert reply["ToUserName"] == sender
    assert reply["Content"] == CHANNEL_TEXTS["describe_in_text"]


def test_safe_mode_refuses_plain_messages(slow_stack: RasaStack, sender: str) -> None:
    body = text_message(sender, "你好", next(_msg_ids))
    assert post(slow_stack.rasa_url, signed_query(TOKEN), body).status_code == 403
    assert user_turns(slow_stack, sender) == []


def test_safe_mode_refuses_a_wrong_msg_signature(
    slow_stack: RasaStack, wechat: SafeModeWeChat, sender: str
) -> None:
    query, body = wechat.encrypted_request(text_message(sender, "你好", next(_msg_ids)))
    query["msg_signature"] = "0" * 40
    assert post(slow_stack.rasa_url, query, body).status_code == 403
    assert user_turns(slow_stack, sender) == []


def test_a_late_reply_goes_out_as_a_customer_service_message(
    slow_stack: RasaStack, fake_api: FakeWeChatApi, wechat: SafeModeWeChat, sender: str
) -> None:
    text = "我没买POS机却收到一台"
    query, body = wechat.encrypted_request(text_message(sender, text, next(_msg_ids)))
    answer = post(slow_stack.rasa_url, query, body)
    assert (answer.status_code, answer.text) == (200, "success")

    delivered = fake_api.wait_for_messages(sender)
    assert delivered, "no customer-service message reached the stand-in"
    assert all(message["msgtype"] == "text" for message in delivered)
    rest_texts = [
        reply["text"] for reply in slow_stack.send(f"{sender}-rest", text) if reply.get("text")
    ]
    assert rest_texts[0].strip()[:40] in delivered[0]["text"]["content"]
    assert fake_api.tokens_issued, "the channel never fetched an access token"


def test_a_retry_after_success_neither_reruns_nor_resends(
    slow_stack: RasaStack, fake_api: FakeWeChatApi, wechat: SafeModeWeChat, sender: str
) -> None:
    message = text_message(sender, "你好", next(_msg_ids))
    first_query, first_body = wechat.encrypted_request(message)
    assert post(slow_stack.rasa_url, first_query, first_body).text == "success"
    assert fake_api.wait_for_messages(sender)

    retry_query, retry_body = wechat.encrypted_request(message)
    assert post(slow_stack.rasa_url, retry_query, retry_body).text == "success"
    # A later message of the same user is handled after anything the retry could have caused
    # (one conversation's turns run in order), so once its answer is delivered, a resend of the
    # greeting would have been delivered too.
    query, body = wechat.encrypted_request(text_message(sender, "转人工", next(_msg_ids)))
    assert post(slow_stack.rasa_url, query, body).text == "success"
    deadline = time.monotonic() + 60
    while not any("转接人工客服" in m["text"]["content"] for m in fake_api.messages_to(sender)):
        assert time.monotonic() < deadline, "the later message was never answered"
        time.sleep(0.2)
    contents = [m["text"]["content"] for m in fake_api.messages_to(sender)]
    greetings = [content for content in contents if "POS机纠纷助手" in content]
    assert len(greetings) == 1, contents
    assert [turn["text"] for turn in user_turns(slow_stack, sender)] == ["你好", "转人工"]


def test_the_access_token_is_fetched_once_and_reused(
    slow_stack: RasaStack, fake_api: FakeWeChatApi, wechat: SafeModeWeChat, sender: str
) -> None:
    # The stand-in lives for the whole module: count only what this test causes.
    tokens_before = len(fake_api.tokens_issued)
    for number in range(2):
        openid = f"{sender}-{number}"
        query, body = wechat.encrypted_request(text_message(openid, "你好", next(_msg_ids)))
        assert post(slow_stack.rasa_url, query, body).text == "success"
        assert fake_api.wait_for_messages(openid)
    new_tokens = len(fake_api.tokens_issued) - tokens_before
    # One fetch when no earlier test needed a token, none when one was already held.
    assert new_tokens == (1 if tokens_before == 0 else 0)


def test_log_lines_on_the_real_servers_are_masked(slow_stack: RasaStack, sender: str) -> None:
    """The Rasa server of this stack logs at debug level, which writes every user message and
    slot value: the masking filter must be on the server's own log handlers."""
    numbers = ("13812345678", "6222021234567890123", "110101199003071234")
    slow_stack.send(sender, "我的手机{}，卡号{}，身份证{}".format(*numbers))
    rasa_log = (slow_stack.workdir / "rasa.log").read_text(encoding="utf-8")
    actions_log = (slow_stack.workdir / "actions.log").read_text(encoding="utf-8")
    assert "138****5678" in rasa_log  # the message was logged, masked
    for number in numbers:
        assert number not in rasa_log and number not in actions_log, number


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def delivered_since(
    fake_api: FakeWeChatApi, openid: str, already: int, expected_texts: list[str]
) -> str:
    """The text delivered after the first `already` messages, once it holds every expected text
    (or after a generous wait: parts arrive one by one)."""
    wanted = [_squeeze(text) for text in expected_texts]
    deadline = time.monotonic() + 60
    while True:
        delivered = "".join(
            message["text"]["content"] for message in fake_api.messages_to(openid)[already:]
        )
        if all(text in _squeeze(delivered) for text in wanted) or time.monotonic() > deadline:
            return delivered
        time.sleep(0.2)


def in_order(texts: list[str], within: str) -> bool:
    position = 0
    squeezed = _squeeze(within)
    for text in texts:
        found = squeezed.find(_squeeze(text), position)
        if found < 0:
            return False
        position = found + len(_squeeze(text))
    return True


def test_wechat_gives_the_same_advice_as_rest_in_full(
    slow_stack: RasaStack, fake_api: FakeWeChatApi, wechat: SafeModeWeChat, sender: str
) -> None:
    """Every part of the answer goes through the API here, so the whole advice can be compared,
    following the assistant's questions with the "否" option (its number on WeChat)."""
    rest_sender = f"{sender}-rest"
    rest_replies = slow_stack.send(rest_sender, "我没买POS机却收到一台")
    wechat_answer = "我没买POS机却收到一台"
    seen_texts: list[str] = []
    for _ in range(5):
        rest_texts = [reply["text"] for reply in rest_replies if reply.get("text")]
        already = len(fake_api.messages_to(sender))
        query, body = wechat.encrypted_request(text_message(sender, wechat_answer, next(_msg_ids)))
        assert post(slow_stack.rasa_url, query, body).text == "success"
        delivered = delivered_since(fake_api, sender, already, rest_texts)
        assert in_order(rest_texts, delivered), (rest_texts, delivered)
        seen_texts.extend(rest_texts)
        buttons = [button for reply in rest_replies for button in reply.get("buttons", [])]
        titles = [button["title"] for button in buttons]
        if "否" not in titles:
            break
        number = titles.index("否") + 1
        assert f"\n{number}. 否" in delivered  # written out, not the channel's own formatter
        rest_replies = slow_stack.send(rest_sender, buttons[number - 1]["payload"])
        wechat_answer = str(number)
    advice = "\n".join(seen_texts)
    assert "核实" in advice and "保留证据" in advice


def test_an_agents_reply_after_a_handoff_reaches_the_wechat_user(
    slow_stack: RasaStack, fake_api: FakeWeChatApi, wechat: SafeModeWeChat, sender: str
) -> None:
    query, body = wechat.encrypted_request(text_message(sender, "转人工", next(_msg_ids)))
    assert post(slow_stack.rasa_url, query, body).text == "success"
    handoff_message = fake_api.wait_for_messages(sender)
    assert "转接人工客服" in handoff_message[0]["text"]["content"]

    staff(
        slow_stack,
        "handoff",
        "reply",
        conversation_id(sender, "wechat"),
        "您好，我是客服小王，请问机器是哪天收到的？",
    )
    deadline = time.monotonic() + 60
    while len(fake_api.messages_to(sender)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    agent_message = fake_api.messages_to(sender)[-1]
    assert agent_message["msgtype"] == "text"
    assert agent_message["text"]["content"] == "您好，我是客服小王，请问机器是哪天收到的？"

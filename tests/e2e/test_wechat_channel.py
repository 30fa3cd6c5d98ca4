"""The WeChat channel on the running Rasa server, plain mode, with XML signed as WeChat does."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from tests.e2e.stack import RasaStack
from tests.fakes.wechat_server import (
    ACCOUNT_ID,
    WEBHOOK_PATH,
    event_message,
    post,
    post_signed,
    reply_fields,
    signed_query,
    text_message,
    voice_message,
)

pytestmark = pytest.mark.e2e

CHANNEL_TEXTS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "channels" / "wechat.yml").read_text("utf-8")
)
UNORDERED_DEVICE = "我没买POS机却收到一台"
_msg_ids = itertools.count(int(time.time() * 1000))


def token(stack: RasaStack) -> str:
    return stack.env["WECHAT_TOKEN"]


def user_turns(stack: RasaStack, openid: str) -> list[dict]:
    return [
        event for event in stack.tracker(openid, "wechat")["events"] if event["event"] == "user"
    ]


def ask(stack: RasaStack, openid: str, content: str, msg_id: int | None = None) -> dict[str, str]:
    answer = post_signed(
        stack.rasa_url, token(stack), text_message(openid, content, msg_id or next(_msg_ids))
    )
    assert answer.status_code == 200, answer.text
    return reply_fields(answer.text)


def test_server_verification_echoes_echostr(rasa_stack: RasaStack) -> None:
    query = {**signed_query(token(rasa_stack)), "echostr": "echo-1234"}
    answer = httpx.get(rasa_stack.rasa_url + WEBHOOK_PATH, params=query, timeout=10)
    assert (answer.status_code, answer.text) == (200, "echo-1234")


def test_verification_with_a_wrong_signature_is_refused(rasa_stack: RasaStack) -> None:
    query = {**signed_query("not-the-token"), "echostr": "echo-1234"}
    answer = httpx.get(rasa_stack.rasa_url + WEBHOOK_PATH, params=query, timeout=10)
    assert answer.status_code == 403
    assert "echo-1234" not in answer.text


def test_a_text_message_gets_a_passive_reply(rasa_stack: RasaStack, sender: str) -> None:
    reply = ask(rasa_stack, sender, "你好")
    assert reply["ToUserName"] == sender
    assert reply["FromUserName"] == ACCOUNT_ID
    assert reply["MsgType"] == "text"
    assert reply["Content"].strip()
    assert len(reply["Content"].encode("utf-8")) <= 2048


@pytest.mark.parametrize(
    "query_for",
    [
        lambda t: signed_query("not-the-token"),
        lambda t: {**signed_query(t), "signature": "0" * 40},
        lambda t: signed_query(t, timestamp=int(time.time()) - 600),
        lambda t: signed_query(t, timestamp=int(time.time()) + 600),
        lambda t: {},
    ],
    ids=["wrong-token", "wrong-signature", "stale", "future", "unsigned"],
)
def test_unsigned_wrong_or_stale_requests_are_refused(
    rasa_stack: RasaStack, sender: str, query_for
) -> None:
    body = text_message(sender, "你好", next(_msg_ids))
    answer = post(rasa_stack.rasa_url, query_for(token(rasa_stack)), body)
    assert answer.status_code == 403
    assert not [
        event
        for event in rasa_stack.tracker(sender, "wechat")["events"]
        if event["event"] == "user"
    ]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]><xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
).replace("&lol0;", "&lol;")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("<xml><ToUserName>broken", 400),
        ("not xml at all", 400),
        ("<root><MsgType>text</MsgType></root>", 400),
        (BILLION_LAUGHS, 400),
        ("<xml><Content>" + "长" * 30_000 + "</Content></xml>", 413),
    ],
    ids=["truncated", "not-xml", "wrong-root", "billion-laughs", "oversized"],
)
def test_hostile_bodies_are_refused_and_the_server_keeps_answering(
    rasa_stack: RasaStack, sender: str, body: str, status: int
) -> None:
    answer = post_signed(rasa_stack.rasa_url, token(rasa_stack), body)
    assert answer.status_code == status
    assert ask(rasa_stack, sender, "你好")["Content"].strip()


def test_a_retried_message_runs_the_assistant_once(rasa_stack: RasaStack, sender: str) -> None:
    msg_id = next(_msg_ids)
    first = ask(rasa_stack, sender, UNORDERED_DEVICE, msg_id)
    retry = ask(rasa_stack, sender, UNORDERED_DEVICE, msg_id)
    assert retry["Content"] == first["Content"]
    assert [turn["text"] for turn in user_turns(rasa_stack, sender)] == [UNORDERED_DEVICE]


def test_retries_arriving_together_share_one_turn(rasa_stack: RasaStack, sender: str) -> None:
    body = text_message(sender, UNORDERED_DEVICE, next(_msg_ids))
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(
            pool.map(lambda _: post_signed(rasa_stack.rasa_url, token(rasa_stack), body), range(3))
        )
    contents = {reply_fields(answer.text)["Content"] for answer in answers}
    assert len(contents) == 1
    assert len(user_turns(rasa_stack, sender)) == 1


def test_subscribe_sends_the_greeting(rasa_stack: RasaStack, sender: str) -> None:
    answer = post_signed(rasa_stack.rasa_url, token(rasa_stack), event_message(sender, "subscribe"))
    content = reply_fields(answer.text)["Content"]
    greeting = rasa_stack.send(f"{sender}-rest", "/greet")
    texts = [reply["text"].strip() for reply in greeting if reply.get("text")]
    assert texts and all(text in content for text in texts)
    buttons = [button for reply in greeting for button in reply.get("buttons", [])]
    for number, button in enumerate(buttons, start=1):
        option = CHANNEL_TEXTS["option_line"].format(number=number, title=button["title"])
        assert option in content
    assert [turn["text"] for turn in user_turns(rasa_stack, sender)] == ["/greet"]


def test_buttons_become_numbers_and_a_number_sends_the_payload(
    rasa_stack: RasaStack, sender: str
) -> None:
    rest = rasa_stack.send(f"{sender}-rest", UNORDERED_DEVICE)
    buttons = [button for reply in rest for button in reply.get("buttons", [])]
    assert len(buttons) >= 2, "the assistant is expected to offer choices here"
    content = ask(rasa_stack, sender, UNORDERED_DEVICE)["Content"]
    assert CHANNEL_TEXTS["options_header"] in content
    for number, button in enumerate(buttons, start=1):
        option = CHANNEL_TEXTS["option_line"].format(number=number, title=button["title"])
        assert option in content
    # Written out here, not built with the channel's own formatter or from the REST answer.
    assert "有没有人打电话或发消息联系您" in content
    assert content.endswith("回复数字选择：\n1. 是\n2. 否")
    ask(rasa_stack, sender, "2")
    assert user_turns(rasa_stack, sender)[-1]["text"] == "/deny"


def test_non_text_messages_get_a_request_to_write_text(rasa_stack: RasaStack, sender: str) -> None:
    answer = post_signed(rasa_stack.rasa_url, token(rasa_stack), voice_message(sender, 7))
    assert reply_fields(answer.text)["Content"] == CHANNEL_TEXTS["describe_in_text"]
    assert user_turns(rasa_stack, sender) == []


def test_other_events_are_acknowledged_without_a_reply(rasa_stack: RasaStack, sender: str) -> None:
    answer = post_signed(
        rasa_stack.rasa_url, token(rasa_stack), event_message(sender, "unsubscribe")
    )
    assert (answer.status_code, answer.text) == (200, "success")


def test_wechat_gives_the_same_advice_as_rest(rasa_stack: RasaStack, sender: str) -> None:
    """Follows the assistant's questions with "否" (its number on WeChat, its payload on REST)."""
    rest_sender = f"{sender}-rest"
    rest_replies = rasa_stack.send(rest_sender, UNORDERED_DEVICE)
    content = ask(rasa_stack, sender, UNORDERED_DEVICE)["Content"]
    for _ in range(5):
        rest_texts = [reply["text"].strip() for reply in rest_replies if reply.get("text")]
        assert rest_texts, "the REST channel gave no answer"
        assert content.startswith(rest_texts[0][:40])
        # The passive reply holds as much of the REST answer as fits in 2048 bytes, in order.
        shown = [text for text in rest_texts if text in content]
        assert shown == rest_texts[: len(shown)]
        buttons = [button for reply in rest_replies for button in reply.get("buttons", [])]
        titles = [button["title"] for button in buttons]
        if "否" not in titles:
            break
        number = titles.index("否") + 1
        rest_replies = rasa_stack.send(rest_sender, buttons[number - 1]["payload"])
        content = ask(rasa_stack, sender, str(number))["Content"]

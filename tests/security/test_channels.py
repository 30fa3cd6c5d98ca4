"""Attacks on the channels, against the real Rasa server (development settings, the shared stack):
forged identities, over-long messages, huge bodies, replayed and malformed WeChat signatures."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from pos_assistant.channels.limits import too_long_reply
from tests.browser.test_socketio_sessions import WAIT_SECONDS, ChatClient
from tests.e2e.stack import RasaStack, running_web_server
from tests.fakes.wechat_server import (
    WEBHOOK_PATH,
    post,
    post_signed,
    reply_fields,
    signed_query,
    text_message,
)

pytestmark = pytest.mark.e2e

REST_PATH = "/webhooks/rest/webhook"
LONG_MESSAGE_CHARS = 20_000
TEN_MEGABYTES = 10 * 1024 * 1024
# The bound: the too-long reply within 1 s, and another user's turn not slowed by more.
TOO_LONG_REPLY_SECONDS = 1.0
ALLOWED_SLOWDOWN_SECONDS = 1.0
_msg_ids = itertools.count(int(time.time() * 1000))


def limit(stack: RasaStack) -> int:
    return int(stack.env.get("MAX_MESSAGE_CHARS") or 1000)


def user_events(stack: RasaStack, sender: str, channel: str = "rest") -> list[dict]:
    return [event for event in stack.tracker(sender, channel)["events"] if event["event"] == "user"]


def wechat_token(stack: RasaStack) -> str:
    return stack.env["WECHAT_TOKEN"]


# --- identities


def test_a_rest_message_cannot_address_a_wechat_conversation(
    rasa_stack: RasaStack, sender: str
) -> None:
    openid = f"o123-{sender}"
    answer = post_signed(
        rasa_stack.rasa_url, wechat_token(rasa_stack), text_message(openid, "你好", next(_msg_ids))
    )
    assert answer.status_code == 200, answer.text
    before = rasa_stack.tracker(openid, "wechat")["events"]

    forged = f"wx:{openid}"
    for extra in ({}, {"input_channel": "wechat"}, {"input_channel": "socketio"}):
        body = {"sender": forged, "message": "查询进度", **extra}
        reply = httpx.post(rasa_stack.rasa_url + REST_PATH, json=body, timeout=60)
        assert reply.status_code == 200
        assert all(message["recipient_id"] == forged for message in reply.json())

    assert rasa_stack.tracker(openid, "wechat")["events"] == before
    # The messages landed in the REST caller's own conversation, as REST.
    forged_events = user_events(rasa_stack, forged)
    assert [event["text"] for event in forged_events] == ["查询进度"] * 3
    assert {event["input_channel"] for event in forged_events} == {"rest"}


def test_client_address_is_set_by_the_server(rasa_stack: RasaStack, sender: str) -> None:
    body = {"sender": sender, "message": "你好", "metadata": {"client_address": "6.6.6.6", "k": 1}}
    headers = {"X-Forwarded-For": "7.7.7.7"}  # no TRUSTED_PROXY here: not believed
    httpx.post(rasa_stack.rasa_url + REST_PATH, json=body, headers=headers, timeout=60)
    metadata = user_events(rasa_stack, sender)[-1]["metadata"]
    assert (metadata["client_address"], metadata["k"]) == ("127.0.0.1", 1)


# --- bounded work per message


def timed(call: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    answer = call()
    return time.monotonic() - started, answer


def rest_call(stack: RasaStack, sender: str, text: str) -> Callable[[], httpx.Response]:
    body = {"sender": sender, "message": text}
    return lambda: httpx.post(stack.rasa_url + REST_PATH, json=body, timeout=60)


def test_a_huge_message_is_refused_politely_and_fast_without_slowing_anyone(
    rasa_stack: RasaStack, sender: str
) -> None:
    attacker, other = f"{sender}-attacker", f"{sender}-other"
    huge = "SN" + " " * (LONG_MESSAGE_CHARS - 2)
    rest_call(rasa_stack, other, "你好")()  # the other user's conversation exists already
    alone = [timed(rest_call(rasa_stack, other, "你好"))[0] for _ in range(3)]

    start = threading.Barrier(2)
    results: dict[str, tuple[float, httpx.Response]] = {}

    def run(name: str, call: Callable[[], httpx.Response]) -> None:
        start.wait()
        results[name] = timed(call)

    threads = [
        threading.Thread(target=run, args=("huge", rest_call(rasa_stack, attacker, huge))),
        threading.Thread(target=run, args=("other", rest_call(rasa_stack, other, "你好"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    huge_seconds, huge_answer = results["huge"]
    other_seconds, other_answer = results["other"]
    assert huge_answer.status_code == 200
    assert huge_answer.json() == [
        {"recipient_id": attacker, "text": too_long_reply(limit(rasa_stack))}
    ]
    assert huge_seconds < TOO_LONG_REPLY_SECONDS
    assert other_answer.status_code == 200 and other_answer.json()
    # Shown with `pytest -s`: the figures behind the bound.
    print(f"too-long reply {huge_seconds:.3f} s; other turn {other_seconds:.3f} s, alone {alone}")
    assert other_seconds <= max(alone) + ALLOWED_SLOWDOWN_SECONDS, (alone, other_seconds)
    assert user_events(rasa_stack, attacker) == []  # nothing of it was processed


def test_a_message_at_the_limit_is_still_processed(rasa_stack: RasaStack, sender: str) -> None:
    text = ("我没买POS机却收到一台" * 100)[: limit(rasa_stack)]
    replies = rasa_stack.send(sender, text)
    assert replies and replies[0]["text"] != too_long_reply(limit(rasa_stack))
    assert [event["text"] for event in user_events(rasa_stack, sender)] == [text]


def test_a_too_long_widget_message_is_refused_politely(rasa_stack: RasaStack) -> None:
    chat = ChatClient(rasa_stack.rasa_url)
    try:
        session_id = chat.request_session(None)
        chat.client.emit("user_uttered", {"message": "长" * LONG_MESSAGE_CHARS})
        reply = chat.replies.get(timeout=WAIT_SECONDS)
    finally:
        chat.close()
    assert reply["text"] == too_long_reply(limit(rasa_stack))
    assert user_events(rasa_stack, session_id, "socketio") == []


def test_a_too_long_wechat_message_is_refused_politely(rasa_stack: RasaStack, sender: str) -> None:
    body = text_message(sender, "长" * LONG_MESSAGE_CHARS, next(_msg_ids))
    answer = post_signed(rasa_stack.rasa_url, wechat_token(rasa_stack), body)
    assert answer.status_code == 200, answer.text
    assert reply_fields(answer.text)["Content"] == too_long_reply(limit(rasa_stack))
    assert user_events(rasa_stack, sender, "wechat") == []


def status_for_huge_body(base_url: str, path: str, sent_bytes: int) -> int:
    """The status answered to a POST that declares a 10 MB body of which only `sent_bytes` are
    sent: a server that waited for the whole body would never answer (socket timeout)."""
    parts = urlsplit(base_url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {TEN_MEGABYTES}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=WAIT_SECONDS) as sock:
        sock.sendall(head.encode("ascii") + b"x" * sent_bytes)
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


@pytest.mark.parametrize("path", [REST_PATH, "/socket.io/?EIO=4&transport=polling"])
def test_a_ten_megabyte_body_is_refused_before_it_is_read(rasa_stack: RasaStack, path: str) -> None:
    # Refused from the declared length alone: 1 KB of the body is all the server gets.
    assert status_for_huge_body(rasa_stack.rasa_url, path, 1024) == 413
    assert rasa_stack.send("after-a-huge-body", "你好")


def test_the_widget_relay_refuses_a_ten_megabyte_body(
    rasa_stack: RasaStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    limit_bytes = int(rasa_stack.env.get("MAX_REQUEST_BYTES") or 256 * 1024)
    with running_web_server(rasa_stack.rasa_url, tmp_path_factory.mktemp("web-limits")) as web:
        path = "/socket.io/?EIO=4&transport=polling"
        # The relay reads up to its limit, then refuses (the rest is never needed).
        assert status_for_huge_body(web.url, path, limit_bytes + 1024) == 413


# --- WeChat: replays and malformed signatures


def test_a_signed_query_cannot_carry_another_message(rasa_stack: RasaStack, sender: str) -> None:
    token = wechat_token(rasa_stack)
    query = signed_query(token)
    first_body = text_message(sender, "你好", next(_msg_ids))
    first = post(rasa_stack.rasa_url, query, first_body)
    assert first.status_code == 200, first.text

    other_body = text_message(sender, "我要投诉", next(_msg_ids))
    assert post(rasa_stack.rasa_url, query, other_body).status_code == 403
    other_user = text_message(f"{sender}-victim", "查询进度", next(_msg_ids))
    assert post(rasa_stack.rasa_url, query, other_user).status_code == 403

    retry = post(rasa_stack.rasa_url, query, first_body)  # WeChat's own retry: same query, body
    assert retry.status_code == 200
    assert reply_fields(retry.text)["Content"] == reply_fields(first.text)["Content"]
    assert [event["text"] for event in user_events(rasa_stack, sender, "wechat")] == ["你好"]
    assert user_events(rasa_stack, f"{sender}-victim", "wechat") == []


def test_a_verification_query_is_no_pass_for_a_message(rasa_stack: RasaStack, sender: str) -> None:
    query = signed_query(wechat_token(rasa_stack))
    verified = httpx.get(
        rasa_stack.rasa_url + WEBHOOK_PATH, params={**query, "echostr": "e1"}, timeout=10
    )
    assert (verified.status_code, verified.text) == (200, "e1")
    body = text_message(sender, "你好", next(_msg_ids))
    assert post(rasa_stack.rasa_url, query, body).status_code == 403
    assert user_events(rasa_stack, sender, "wechat") == []


MALFORMED = {
    "non-ascii": {"signature": "é"},
    "non-ascii-40": {"signature": "é" * 40},
    "non-hex": {"signature": "z" * 40},
    "full-width-digits": {"signature": "０" * 40},
    "short": {"signature": "0" * 39},
    "long": {"signature": "0" * 41},
    "empty": {"signature": ""},
    "full-width-timestamp": {"timestamp": "１７００００００００"},
    "non-ascii-nonce": {"nonce": "ñ"},
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_signatures_are_refused_with_403(
    rasa_stack: RasaStack, sender: str, change: dict[str, str]
) -> None:
    query = {**signed_query(wechat_token(rasa_stack)), **change}
    body = text_message(sender, "你好", next(_msg_ids))
    assert post(rasa_stack.rasa_url, query, body).status_code == 403
    verify = httpx.get(
        rasa_stack.rasa_url + WEBHOOK_PATH, params={**query, "echostr": "e1"}, timeout=10
    )
    assert verify.status_code == 403
    missing = {key: value for key, value in query.items() if key != "signature"}
    assert post(rasa_stack.rasa_url, missing, body).status_code == 403
    assert user_events(rasa_stack, sender, "wechat") == []

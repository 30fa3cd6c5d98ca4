"""Channel parts without a server: client address, length limit text, signed-query memory,
malformed signatures, the production WeChat token, secret redaction, reply routing by prefix."""

from __future__ import annotations

import hashlib
import logging

import pytest
import yaml

from pos_assistant.channels.addresses import client_address, with_client_address
from pos_assistant.channels.limits import TEXTS_PATH, is_too_long, too_long_reply
from pos_assistant.channels.wechat import DEVELOPMENT_TOKEN, CustomerServiceOutput, WeChatConfig
from pos_assistant.channels.wechat_api import (
    ConfigurableWeChatClient,
    CustomerServiceSender,
    redact_secrets,
)
from pos_assistant.channels.wechat_memory import SignedQueryMemory
from pos_assistant.channels.wechat_security import RejectedRequest, check_signature
from pos_assistant.identity import raw_sender
from pos_assistant.staff.rasa_client import _tracker_url
from tests.e2e.stack import free_port
from tests.fakes.wechat_api import running_fake_wechat_api

TOKEN = "unit-token"
NOW = 1_700_000_000


def signed(timestamp: int = NOW, nonce: str = "n1") -> dict[str, str]:
    parts = sorted([TOKEN, str(timestamp), nonce])
    signature = hashlib.sha1("".join(parts).encode()).hexdigest()
    return {"signature": signature, "timestamp": str(timestamp), "nonce": nonce}


# --- client address


def test_the_peer_is_the_client_unless_it_is_a_trusted_proxy() -> None:
    assert client_address("203.0.113.7", "198.51.100.1", ()) == "203.0.113.7"
    assert client_address("203.0.113.7", "198.51.100.1", ("127.0.0.1",)) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() -> None:
    trusted = ("127.0.0.1", "10.0.0.0/8")
    # A client can prepend anything; only what the proxies appended counts.
    forwarded = "1.2.3.4, 198.51.100.9, 10.1.2.3"
    assert client_address("127.0.0.1", forwarded, trusted) == "198.51.100.9"
    assert client_address("127.0.0.1", "not-an-address", trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", None, trusted) == "127.0.0.1"


def test_a_client_sent_address_is_replaced_and_other_metadata_kept() -> None:
    assert with_client_address({"client_address": "6.6.6.6", "a": 1}, "127.0.0.1") == {
        "client_address": "127.0.0.1",
        "a": 1,
    }
    assert with_client_address("junk", "127.0.0.1") == {"client_address": "127.0.0.1"}


# --- message length


def test_the_limit_counts_characters_and_the_reply_comes_from_the_data_file() -> None:
    assert not is_too_long("长" * 1000, 1000)
    assert is_too_long("长" * 1001, 1000)
    template = yaml.safe_load(TEXTS_PATH.read_text("utf-8"))["message_too_long"]
    reply = too_long_reply(1000)
    assert reply == template.format(limit=1000) and "1000" in reply


# --- WeChat signatures and replays


@pytest.mark.parametrize(
    "change",
    [
        {"signature": "é"},
        {"signature": "é" * 40},
        {"signature": "z" * 40},
        {"signature": "０" * 40},
        {"signature": "0" * 39},
        {"signature": "0" * 41},
        {"signature": ""},
        {"timestamp": "１７００００００００"},
        {"nonce": "ñ"},
        {"nonce": "n" * 65},
    ],
    ids=lambda change: repr(change)[:30],
)
def test_malformed_signatures_are_refused_with_403(change: dict[str, str]) -> None:
    with pytest.raises(RejectedRequest) as refused:
        check_signature(TOKEN, {**signed(), **change}, now=NOW)
    assert refused.value.status == 403


def test_a_signed_query_carries_one_message_only() -> None:
    clock = [0.0]
    memory = SignedQueryMemory(ttl_seconds=330, max_entries=3, clock=lambda: clock[0])
    assert memory.claim("1700000000", "n1", "message-a")
    assert memory.claim("1700000000", "n1", "message-a")  # WeChat's retry of the same message
    assert not memory.claim("1700000000", "n1", "message-b")
    assert memory.claim("1700000000", "n2", "message-b")
    clock[0] = 331  # the timestamp is stale by now, so the query itself is refused anyway
    assert memory.claim("1700000000", "n1", "message-b")


def test_the_remembered_queries_are_bounded() -> None:
    memory = SignedQueryMemory(ttl_seconds=330, max_entries=3)
    for number in range(10):
        memory.claim("1700000000", f"n{number}", "m")
    assert len(memory) == 3


def test_production_refuses_the_development_token() -> None:
    config = WeChatConfig(DEVELOPMENT_TOKEN, "", "", "", "https://api.weixin.qq.com/", 4.0)
    with pytest.raises(ValueError, match="development token"):
        config.check(production=True)
    config.check(production=False)


# --- secrets in logs


def test_secrets_in_urls_are_redacted() -> None:
    text = (
        "Max retries exceeded with url: /cgi-bin/token?grant_type=client_credential"
        "&appid=wx1&secret=S3CR3T (Caused by ...) /cgi-bin/message/custom/send?access_token=T0K"
    )
    redacted = redact_secrets(text)
    assert "S3CR3T" not in redacted and "T0K" not in redacted
    assert "appid=wx1" in redacted


async def test_connection_errors_log_no_secret_and_no_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    client = ConfigurableWeChatClient(
        "wx-unit", "unit-S3CR3T", f"http://127.0.0.1:{port}/", None, 2
    )
    sender = CustomerServiceSender(client)
    caplog.set_level(logging.DEBUG)
    # Nothing listens yet: the token fetch fails with the secret in its URL.
    assert await sender.send_texts("o-user", ["你好"]) is False
    with running_fake_wechat_api("wx-unit", "unit-S3CR3T", port=port) as api:
        assert await sender.send_texts("o-user", ["你好"])
        token = api.tokens_issued[-1]
    # Gone again: the message request fails with the access token in its URL.
    assert await sender.send_texts("o-user", ["再见"]) is False
    failures = [r for r in caplog.records if "customer-service message failed" in r.getMessage()]
    assert len(failures) == 2
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Max retries exceeded" in logged  # the URL-bearing error was logged, redacted
    assert "unit-S3CR3T" not in logged and token not in logged


# --- replies go back to the right channel user


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str]]] = []

    async def send(self, openid: str, parts: list[str], key: str) -> None:
        self.sent.append((openid, parts))


async def test_an_agent_reply_goes_to_the_openid_of_a_wechat_conversation_only() -> None:
    recorder = RecordingSender()
    output = CustomerServiceOutput(recorder)  # type: ignore[arg-type]
    await output.send_text_message("wx:o123", "您好")
    await output.send_text_message("rest:o123", "不该发出")
    await output.send_text_message("o123", "不该发出")
    assert recorder.sent == [("o123", ["您好"])]


def test_raw_sender_strips_only_its_own_prefix() -> None:
    assert raw_sender("wechat", "wx:o123") == "o123"
    assert raw_sender("socketio", "web:abc") == "abc"
    assert raw_sender("rest", "rest:wx:o123") == "wx:o123"
    assert raw_sender("wechat", "rest:wx:o123") is None
    assert raw_sender("wechat", "wx:") is None


def test_the_staff_tool_addresses_namespaced_conversations_as_they_are() -> None:
    # Rasa's routes do not percent-decode: `web%3Aabc` would be another (empty) conversation.
    assert (
        _tracker_url("http://rasa:5005/", "web:abc")
        == "http://rasa:5005/conversations/web:abc/tracker"
    )

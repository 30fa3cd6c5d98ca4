"""Pure parts of the WeChat channel: signature, freshness, safe XML, splitting, options, dedupe."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from pos_assistant.channels.wechat import WeChatConfig
from pos_assistant.channels.wechat_memory import ExpiringMap, OptionMemory, TurnCache
from pos_assistant.channels.wechat_replies import (
    MAX_REPLY_BYTES,
    Option,
    chosen_option,
    passive_text_reply,
    render_replies,
    split_for_wechat,
)
from pos_assistant.channels.wechat_security import (
    RejectedRequest,
    check_safe_xml,
    check_signature,
    parse_wechat_message,
)
from pos_assistant.channels.wechat_texts import load_texts

TOKEN = "unit-token"


def signed_query(timestamp: int, nonce: str = "n1") -> dict[str, str]:
    parts = sorted([TOKEN, str(timestamp), nonce])
    signature = hashlib.sha1("".join(parts).encode()).hexdigest()
    return {"signature": signature, "timestamp": str(timestamp), "nonce": nonce}


def test_a_correct_fresh_signature_passes() -> None:
    now = int(time.time())
    check_signature(TOKEN, signed_query(now), now=now)


@pytest.mark.parametrize(
    "query",
    [
        {**signed_query(1_700_000_000), "signature": "0" * 40},
        {**signed_query(1_700_000_000), "nonce": "other"},
        {"timestamp": "1700000000", "nonce": "n1"},
    ],
)
def test_a_wrong_or_missing_signature_is_refused(query: dict[str, str]) -> None:
    with pytest.raises(RejectedRequest) as refused:
        check_signature(TOKEN, query, now=1_700_000_000)
    assert refused.value.status == 403


@pytest.mark.parametrize("age", [301, -31])
def test_stale_and_future_timestamps_are_refused(age: int) -> None:
    now = 1_700_000_000
    with pytest.raises(RejectedRequest) as refused:
        check_signature(TOKEN, signed_query(now - age), now=now)
    assert refused.value.reason == "stale timestamp"


def test_without_a_token_nothing_is_accepted() -> None:
    with pytest.raises(RejectedRequest):
        check_signature("", signed_query(1_700_000_000), now=1_700_000_000)


def test_production_refuses_to_start_without_a_token() -> None:
    config = WeChatConfig("", "", "", "", "https://api.weixin.qq.com/", 4.0)
    with pytest.raises(ValueError, match="WECHAT_TOKEN"):
        config.check(production=True)
    config.check(production=False)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<xml><Content>&lol2;</Content></xml>"""


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (BOMB, 400),
        (b"<xml><ToUserName>broken", 400),
        (b"\xff\xfe<xml/>", 400),
        (b"<xml>" + b"a" * 70_000 + b"</xml>", 413),
        (b"   ", 400),
    ],
)
def test_unsafe_bodies_are_refused(body: bytes, status: int) -> None:
    with pytest.raises(RejectedRequest) as refused:
        parse_wechat_message(check_safe_xml(body))
    assert refused.value.status == status


def test_malformed_but_dtd_free_xml_is_refused_by_the_parser() -> None:
    with pytest.raises(RejectedRequest) as refused:
        parse_wechat_message("<xml><MsgType>text</MsgType>")
    assert refused.value.status == 400


def test_a_text_message_parses() -> None:
    message = parse_wechat_message(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[你好]]></Content><MsgId>42</MsgId></xml>"
    )
    assert (message.type, message.content, message.id, message.source) == ("text", "你好", 42, "o1")


def test_buttons_become_numbered_options_from_the_data_file() -> None:
    texts = load_texts()
    rendered = render_replies(
        [
            {"text": "请选择："},
            {
                "text": "您可以：",
                "buttons": [
                    {"title": "登记工单", "payload": "/open_case"},
                    {"title": "查询进度", "payload": "/check_case_status"},
                ],
            },
        ],
        texts,
    )
    assert rendered.parts == [
        "请选择：\n\n您可以：\n\n"
        + texts.options_header
        + "\n"
        + texts.format_option(1, "登记工单")
        + "\n"
        + texts.format_option(2, "查询进度")
    ]
    assert rendered.options == [
        Option("登记工单", "/open_case"),
        Option("查询进度", "/check_case_status"),
    ]


def test_long_replies_split_at_sentence_ends_within_the_byte_limit() -> None:
    sentence = "请保留快递面单和设备照片作为证据。"  # 17 characters, 51 bytes
    text = sentence * 100  # one long line, 5100 bytes
    parts = split_for_wechat(text)
    assert len(parts) == 3
    assert all(len(part.encode()) <= MAX_REPLY_BYTES for part in parts)
    assert all(part.endswith("。") for part in parts)
    assert "".join(parts) == text


def test_short_replies_stay_whole_and_lines_are_kept() -> None:
    assert split_for_wechat("第一步：核实。\n第二步：保留证据。") == [
        "第一步：核实。\n第二步：保留证据。"
    ]
    assert split_for_wechat("  ") == []


def test_a_sentence_longer_than_the_limit_is_cut_between_characters() -> None:
    parts = split_for_wechat("码" * 1000)  # 3000 bytes, no sentence end
    assert [len(part) for part in parts] == [682, 318]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("1", "/a"), ("２", "/b"), (" 2. ", "/b"), ("3", None), ("0", None), ("1个", None)],
)
def test_numbers_pick_the_offered_option(answer: str, expected: str | None) -> None:
    options = [Option("甲", "/a"), Option("乙", "/b")]
    picked = chosen_option(answer, options)
    assert (picked.payload if picked else None) == expected


def test_options_are_forgotten_when_a_reply_offers_none() -> None:
    memory = OptionMemory()
    memory.remember("o1", [Option("甲", "/a")])
    assert memory.offered("o1") == [Option("甲", "/a")]
    memory.remember("o1", [])
    assert memory.offered("o1") == []


def test_expiring_map_forgets_after_ttl_and_evicts_oldest() -> None:
    now = [0.0]
    entries: ExpiringMap[int] = ExpiringMap(10, max_entries=2, clock=lambda: now[0])
    entries.set("a", 1)
    entries.set("b", 2)
    entries.set("c", 3)
    assert (entries.get("a"), entries.get("b"), entries.get("c")) == (None, 2, 3)
    now[0] = 11
    assert entries.get("b") is None and len(entries) == 0


async def test_a_retry_shares_the_running_turn() -> None:
    cache = TurnCache()
    runs = 0
    release = asyncio.Event()

    async def turn() -> str:
        nonlocal runs
        runs += 1
        await release.wait()
        return "答复"

    first, started_first = cache.get_or_start("msg:1", turn)
    second, started_second = cache.get_or_start("msg:1", turn)
    release.set()
    assert (started_first, started_second) == (True, False)
    assert await first.task == await second.task == "答复"
    assert runs == 1


def test_passive_reply_cannot_be_broken_out_of_cdata() -> None:
    xml = passive_text_reply("o1", "gh_1", "a]]><b>", now=1)
    parsed = parse_wechat_message(xml)
    assert parsed.content == "a]]><b>" and parsed.source == "gh_1"

"""Customer-service sending against the local stand-in for api.weixin.qq.com."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pos_assistant.channels.wechat_api import ConfigurableWeChatClient, CustomerServiceSender
from tests.fakes.wechat_api import FakeWeChatApi, running_fake_wechat_api


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatApi]:
    with running_fake_wechat_api("wx-unit", "unit-secret") as api:
        yield api


async def test_parts_are_sent_in_order_with_one_cached_token(fake_api: FakeWeChatApi) -> None:
    sender = CustomerServiceSender(
        ConfigurableWeChatClient("wx-unit", "unit-secret", fake_api.url, timeout=5)
    )
    assert await sender.send_texts("o-user", ["第一段", "第二段"])
    assert await sender.send_texts("o-user", ["第三段"])
    assert [m["text"]["content"] for m in fake_api.messages_to("o-user")] == [
        "第一段",
        "第二段",
        "第三段",
    ]
    assert fake_api.tokens_issued == ["fake-token-1"]


async def test_a_revoked_token_is_replaced_and_the_message_still_sent(
    fake_api: FakeWeChatApi,
) -> None:
    sender = CustomerServiceSender(
        ConfigurableWeChatClient("wx-unit", "unit-secret", fake_api.url, timeout=5)
    )
    assert await sender.send_texts("o-user", ["第一段"])
    fake_api.revoke_tokens()
    assert await sender.send_texts("o-user", ["第二段"])
    assert [m["text"]["content"] for m in fake_api.messages_to("o-user")] == ["第一段", "第二段"]
    assert fake_api.tokens_issued == ["fake-token-1", "fake-token-2"]


async def test_wrong_credentials_fail_without_raising(fake_api: FakeWeChatApi) -> None:
    sender = CustomerServiceSender(
        ConfigurableWeChatClient("wx-unit", "wrong-secret", fake_api.url, timeout=5)
    )
    assert await sender.send_texts("o-user", ["你好"]) is False
    assert fake_api.sent_messages == []


async def test_without_appid_nothing_is_sent() -> None:
    assert await CustomerServiceSender(None).send_texts("o-user", ["你好"]) is False

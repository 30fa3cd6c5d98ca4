"""Typed replies to a yes/no question count as answers, without guessing at other messages."""

from __future__ import annotations

import pytest

from pos_assistant.knowledge.prefill import detect_direct_reply


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("没有 就是口头说的", False),
        ("没有人联系我", False),
        ("不是网上买的 线下业务员办的", False),
        ("还没到他说的时间", False),
        ("nope", False),
        ("是网上买的，刚收到三天", True),
        ("交了59块押金", True),
        ("合同上写了的", None),
        ("对，早就过了说好的时间", True),
        ("yes", True),
    ],
)
def test_replies_that_answer(reply: str, answer: bool | None) -> None:
    assert detect_direct_reply(reply) is answer


@pytest.mark.parametrize(
    "message",
    [
        "对了 我还收到一台自己没买的pos机",
        "押金一般多少钱啊",
        "有没有人工客服",
        "不知道",
        "now what",
        "/affirm",
        "没有" + "很长的一段话" * 10,
    ],
)
def test_messages_that_are_not_answers(message: str) -> None:
    assert detect_direct_reply(message) is None

"""Typed replies to a yes/no question count as answers, without guessing at other messages."""

from __future__ import annotations

import pytest

from pos_assistant.knowledge import get_knowledge_base
from pos_assistant.knowledge.models import Question
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


def _question(situation: str, slot: str) -> Question:
    return next(q for q in get_knowledge_base().situations[situation].questions if q.slot == slot)


@pytest.mark.parametrize(
    ("situation", "slot", "reply", "answer"),
    [
        # An opening joined to a word off the question's subject answers something else.
        ("refuse_delivery", "deposit_paid", "还没签收", None),
        ("unordered_device", "asked_for_codes_or_money", "是我儿子帮我买的吧", None),
        # On the subject, with a particle, or after a pause, it is the answer.
        ("refuse_delivery", "deposit_paid", "没有交", False),
        ("refuse_delivery", "deposit_paid", "还没呢", False),
        ("refuse_delivery", "deposit_paid", "有啊", True),
        ("refuse_delivery", "deposit_paid", "是的我交了", True),
        ("unordered_device", "asked_for_codes_or_money", "没有人联系我", False),
        ("unordered_device", "asked_for_codes_or_money", "没有 就是快递送来的", False),
        ("unordered_device", "paid_on_delivery", "付了99", True),
        ("no_activation_refund", "bought_online_within_7_days", "不是网上买的", False),
    ],
)
def test_a_reply_is_read_against_the_question_it_answers(
    situation: str, slot: str, reply: str, answer: bool | None
) -> None:
    assert detect_direct_reply(reply, _question(situation, slot)) is answer

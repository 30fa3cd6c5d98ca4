"""Answers typed in words fill the advice questions: "网上买的 收到5天" answers "within 7 days"."""

from __future__ import annotations

import pytest

from pos_assistant.knowledge import load_knowledge_base
from pos_assistant.knowledge.prefill import detect_answer


def seven_days_question():  # type: ignore[no-untyped-def]
    situation = load_knowledge_base().situations["no_activation_refund"]
    return next(q for q in situation.questions if q.slot == "bought_online_within_7_days")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("网上买的 收到5天", True),
        ("到手三天", True),
        ("收到10天了", False),
        ("网上买的，收到八天了", False),
        ("收到半个月了", False),
        ("网上买的", None),  # the days are what decides it
    ],
)
def test_days_since_delivery_answer_the_seven_day_question(
    text: str, expected: bool | None
) -> None:
    assert detect_answer(seven_days_question(), text) is expected

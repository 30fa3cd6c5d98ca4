"""The "already given?" reader on its own examples (the held-out set is a separate file)."""

from __future__ import annotations

import pytest

from pos_assistant.nlu.already_given import AlreadyGiven, read_already_given

G, N, A, U = (
    AlreadyGiven.GIVEN,
    AlreadyGiven.NOT_GIVEN,
    AlreadyGiven.ONLY_ASKED,
    AlreadyGiven.UNCLEAR,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("他打电话来，我已经把验证码给他了", G),
        ("我把验证码告诉冒充pos客服的人了怎么办", G),
        ("没转账，但是验证码告诉他了", G),  # one given clause decides: safety first
        ("不小心把卡号报给他了", G),  # "不小心" is not a negation
        ("没想到我就把密码告诉他了", G),
        ("他让我报验证码，我报了", G),
        ("已经被骗了", G),
        ("我没给他验证码，直接挂了", N),
        ("差点就转账了", N),
        ("险些被骗", N),
        ("我没给验证码，已经报了警", N),  # reporting to the police is not giving anything
        ("让我把验证码报给他", A),
        ("他还让我转了2000", G),  # a request, but 了 on the verb says it was done
        ("他让我把钱转过去了", G),
        ("他让我下载了一个App", G),
        ("他让我转2000过去", A),
        ("他要我的卡号", A),
        ("有人自称pos售后给我打电话", U),  # "给我" is the caller's doing
        ("pos售后说我的机器违规了", U),
        ("不记得有没有告诉他了", U),
        ("", U),
        ("/affirm", U),
    ],
)
def test_reading(text: str, expected: AlreadyGiven) -> None:
    assert read_already_given(text) is expected


def test_slot_values() -> None:
    assert G.slot_value is True and N.slot_value is False
    assert A.slot_value is None and U.slot_value is None


def test_long_input_is_read_quickly_and_safely() -> None:
    # bounded windows only: a long message is no problem and is still read
    text = "他让我" + "啊" * 20000 + "，我没给"
    assert read_already_given(text) is N

"""Cases end to end through the running Rasa server and action server (REST channel).

Staff changes go through the real staff CLI against the stack's DATABASE_URL.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest

from pos_assistant.cases.records import NewCase
from pos_assistant.cases.store import CaseStore
from tests.e2e.stack import PROJECT_ROOT, RasaStack

pytestmark = pytest.mark.e2e

CASE_NUMBER = re.compile(r"CS\d{10}")


def new_sender(label: str) -> str:
    return f"cases-{label}-{uuid.uuid4().hex[:8]}"


def stack_store(rasa_stack: RasaStack) -> CaseStore:
    return CaseStore(rasa_stack.env["DATABASE_URL"])


def open_case_directly(rasa_stack: RasaStack, phone: str = "13912345678") -> str:
    store = stack_store(rasa_stack)
    try:
        return store.create_case(
            NewCase(
                category="unordered_device",
                contact_phone=phone,
                description="没买过POS机却收到一台",
                channel="rest",
                channel_user_id=new_sender("opener"),
                idempotency_key=uuid.uuid4().hex,
            )
        ).case_number
    finally:
        store.dispose()


def staff(rasa_stack: RasaStack, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pos_assistant.staff", *args],
        cwd=PROJECT_ROOT,
        env=rasa_stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def ask_for_case(rasa_stack: RasaStack, sender: str, number: str) -> str:
    return rasa_stack.texts(sender, f"查询进度 {number}")


def test_open_a_case_by_conversation_then_look_it_up_from_a_new_sender(
    rasa_stack: RasaStack,
) -> None:
    user = new_sender("open")
    assert "哪类问题" in rasa_stack.texts(user, "我要登记工单")
    assert "手机号" in rasa_stack.texts(user, "办机赠品没寄")
    assert "经过" in rasa_stack.texts(user, "13812345678")
    assert "跳过" in rasa_stack.texts(user, "办机时业务员说送一台电饭煲，一个多月了还没寄")
    summary = rasa_stack.texts(user, "没有")
    assert "138****5678" in summary and "13812345678" not in summary
    assert "办机赠品没寄" in summary
    created = rasa_stack.texts(user, "是")
    match = CASE_NUMBER.search(created)
    assert match, created
    number = match.group(0)
    assert f"查询进度 {number}" in created

    # A REST sender is whatever the caller typed: even the opener's REST conversation is asked
    # for the last four digits (only a widget session or a WeChat openid skips the question).
    assert "后4位" in ask_for_case(rasa_stack, user, number)
    assert "已受理" in rasa_stack.texts(user, "5678")

    stranger = new_sender("lookup")
    question = ask_for_case(rasa_stack, stranger, number)
    assert "后4位" in question and "已受理" not in question
    answer = rasa_stack.texts(stranger, "5678")
    assert "已受理" in answer and "138****5678" in answer and number in answer

    # What staff write is what the user sees next.
    staff(rasa_stack, "cases", "set-status", number, "处理中", "--note", "已联系服务商补寄赠品")
    later = new_sender("later")
    ask_for_case(rasa_stack, later, number)
    answer = rasa_stack.texts(later, "5678")
    assert "处理中" in answer and "已联系服务商补寄赠品" in answer


def test_a_wrong_last4_reveals_nothing_and_unknown_numbers_answer_the_same(
    rasa_stack: RasaStack,
) -> None:
    number = open_case_directly(rasa_stack)
    unknown = "CS2001010001"  # a date long before any case here
    replies = []
    for case_number in (number, unknown):
        sender = new_sender("wrong")
        replies.append(
            (ask_for_case(rasa_stack, sender, case_number), rasa_stack.texts(sender, "0000"))
        )
    assert replies[0] == replies[1]
    question, refusal = replies[0]
    assert "后4位" in question
    assert "对不上" in refusal
    for text in (question, refusal):
        assert "已受理" not in text and "139****5678" not in text


def test_three_wrong_answers_lock_the_number_even_for_a_new_sender(
    rasa_stack: RasaStack,
) -> None:
    number = open_case_directly(rasa_stack, phone="13700001234")
    guesser = new_sender("guess")
    ask_for_case(rasa_stack, guesser, number)
    rasa_stack.texts(guesser, "1111")
    rasa_stack.texts(guesser, "2222")
    locked = rasa_stack.texts(guesser, "3333")
    assert "次数过多" in locked

    newcomer = new_sender("newcomer")
    answer = ask_for_case(rasa_stack, newcomer, number)
    assert "次数过多" in answer and "后4位" not in answer
    # Even the right digits from yet another sender get nothing while locked.
    other = new_sender("other")
    ask_for_case(rasa_stack, other, number)
    assert "已受理" not in rasa_stack.texts(other, "1234")

"""Case lookups, limits and staff output through the running Rasa server, as an attacker would.

Conversation ids differ by channel once the channels namespace them (`wx:<openid>`,
`rest:<sender>`); these tests assert on behaviour only: no case data without the last-4 check.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from pos_assistant.cases.store import CaseStore
from tests.e2e.stack import PROJECT_ROOT, RasaStack
from tests.fakes.wechat_server import post_signed, reply_fields, text_message

pytestmark = pytest.mark.e2e

CASE_NUMBER = re.compile(r"CS\d{10}")
_msg_ids = itertools.count(int(time.time() * 1000) + 7_000_000)


def rest(stack: RasaStack, sender: str, text: str, input_channel: str | None = None) -> str:
    body: dict = {"sender": sender, "message": text}
    if input_channel:
        body["input_channel"] = input_channel
    answer = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
    answer.raise_for_status()
    parts: list[str] = []
    for reply in answer.json():
        parts.append(reply.get("text") or "")
        parts.extend(button["title"] for button in reply.get("buttons", []))
    return "\n".join(parts)


def wechat(stack: RasaStack, openid: str, text: str) -> str:
    answer = post_signed(
        stack.rasa_url, stack.env["WECHAT_TOKEN"], text_message(openid, text, next(_msg_ids))
    )
    assert answer.status_code == 200, answer.text
    return reply_fields(answer.text).get("Content", "")


def open_case_over_wechat(stack: RasaStack, openid: str) -> str:
    wechat(stack, openid, "我要登记工单")
    wechat(stack, openid, "办机赠品没寄")
    wechat(stack, openid, "13866667777")
    wechat(stack, openid, "办机时业务员说送一台电饭煲，一个多月了还没寄")
    wechat(stack, openid, "没有")
    created = wechat(stack, openid, "是")
    match = CASE_NUMBER.search(created)
    assert match, created
    return match.group(0)


def assert_no_case_data(text: str, number: str | None = None) -> None:
    for secret in ("已受理", "138****7777", "7777", "处理中"):
        assert secret not in text, text
    if number:
        assert f"{number}：" not in text and f"{number}:" not in text


def test_a_wechat_users_case_cannot_be_read_over_rest_with_their_openid(
    rasa_stack: RasaStack,
) -> None:
    openid = f"o-sec-{uuid.uuid4().hex[:10]}"
    number = open_case_over_wechat(rasa_stack, openid)
    attempts = [
        (openid, None),
        (openid, "wechat"),
        (f"wx:{openid}", None),
        (f"wx:{openid}", "wechat"),
    ]
    for sender, input_channel in attempts:
        # "My cases" without a number lists nothing...
        listing = rest(rasa_stack, sender, "查询进度", input_channel)
        assert number not in listing, (sender, input_channel, listing)
        assert_no_case_data(listing)
        rest(rasa_stack, sender, "算了", input_channel)
        # ...and a lookup by number asks for the last four digits first.
        question = rest(rasa_stack, sender, f"查询进度 {number}", input_channel)
        assert "后4位" in question, (sender, input_channel, question)
        assert_no_case_data(question, number)
        rest(rasa_stack, sender, "算了", input_channel)
    # With the right digits the same REST conversation sees it: the check is what unlocks it.
    sender = f"wx:{openid}"
    rest(rasa_stack, sender, f"查询进度 {number}", "wechat")
    assert "已受理" in rest(rasa_stack, sender, "7777", "wechat")


def test_guessing_across_case_numbers_locks_the_guesser(rasa_stack: RasaStack) -> None:
    store = CaseStore(rasa_stack.env["DATABASE_URL"])
    try:
        from pos_assistant.cases.records import NewCase

        real = store.create_case(
            NewCase(
                category="other",
                contact_phone="13700009999",
                description="真实工单",
                channel="rest",
                channel_user_id=f"rest:owner-{uuid.uuid4().hex[:6]}",
                idempotency_key=uuid.uuid4().hex,
            )
        ).case_number
    finally:
        store.dispose()
    guesser = f"guesser-{uuid.uuid4().hex[:8]}"
    answers = []
    # Two wrong answers for each of three numbers: under the per-number lock, but six failures
    # for one conversation.
    for offset in range(3):
        guess = f"CS{uuid.uuid4().int % 10**10:010d}"
        assert "后4位" in rest(rasa_stack, guesser, f"查询进度 {guess}")
        answers.append(rest(rasa_stack, guesser, f"{1000 + offset}"))
        answers.append(rest(rasa_stack, guesser, f"{2000 + offset}"))
        if offset < 2:
            rest(rasa_stack, guesser, "算了")
    assert all("对不上" in answer for answer in answers[:5]), answers
    assert "次数过多" in answers[5]
    # Now even a real number with its right digits gets the same locked answer.
    rest(rasa_stack, guesser, "算了")
    answer = rest(rasa_stack, guesser, f"查询进度 {real}")
    if "后4位" in answer:
        answer = rest(rasa_stack, guesser, "9999")
    assert "次数过多" in answer and "已受理" not in answer


def open_case_over_rest(stack: RasaStack, sender: str, story: str) -> str:
    """Answers the case form's questions (it skips what the conversation already gave)."""
    reply = rest(stack, sender, "我要登记工单")
    for _ in range(6):
        # The latest question decides (a reply may repeat an earlier answer, e.g. the phone).
        if "确认登记" in reply:
            return rest(stack, sender, "是")
        if "跳过" in reply:
            reply = rest(stack, sender, "没有")
        elif "经过" in reply:
            reply = rest(stack, sender, story)
        elif "手机号" in reply:
            reply = rest(stack, sender, "13812340000")
        elif "哪类问题" in reply:
            reply = rest(stack, sender, "办机赠品没寄")
        else:
            break
    raise AssertionError(f"the case form went somewhere else: {reply}")


def test_one_conversation_cannot_open_cases_without_end(rasa_stack: RasaStack) -> None:
    sender = f"spammer-{uuid.uuid4().hex[:8]}"
    gifts = ("电饭煲", "电水壶", "充电宝", "蓝牙音箱")  # different content: not a double submit
    stories = [f"办机时业务员说送一台{gift}，一个多月了还没寄" for gift in gifts]
    replies = [open_case_over_rest(rasa_stack, sender, story) for story in stories]
    numbers = [CASE_NUMBER.search(reply) for reply in replies]
    assert all(numbers[:3]), replies
    assert numbers[3] is None and "暂时不能再登记" in replies[3], replies[3]


def staff(stack: RasaStack, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pos_assistant.staff", *args],
        cwd=PROJECT_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_terminal_escape_codes_never_reach_the_staff_tool(rasa_stack: RasaStack) -> None:
    sender = f"esc-{uuid.uuid4().hex[:8]}"
    hostile = "我的机器\x1b[2J\x1b]0;owned\x07有问题\r\u202e伪造\x9b31m"
    rest(rasa_stack, sender, hostile)
    assert "人工" in rest(rasa_stack, sender, "转人工")
    store = CaseStore(rasa_stack.env["DATABASE_URL"])
    try:
        [conversation] = [
            request.conversation_id
            for request in store.handoffs.list()
            if request.conversation_id.endswith(sender)
        ]
    finally:
        store.dispose()
    for output in (
        staff(rasa_stack, "handoff", "list"),
        staff(rasa_stack, "handoff", "show", conversation),
    ):
        for character in ("\x1b", "\x07", "\r", "\u202e", "\x9b"):
            assert character not in output, repr(character)
        assert "owned" not in output and "[2J" not in output
        assert "我的机器有问题" in output

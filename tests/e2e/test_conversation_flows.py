"""Whole conversations through the real Rasa server and action server: welcome, safety first,
misunderstandings, human handoff and giving the conversation back, masked transcripts."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import time

import httpx
import pytest

from tests.e2e.stack import (
    API_TOKEN,
    HANDOFF_REMINDER_SECONDS,
    PROJECT_ROOT,
    VENV_BIN,
    RasaStack,
    conversation_id,
)

pytestmark = pytest.mark.e2e


def staff(rasa_stack: RasaStack, *args: str) -> str:
    """Runs the staff command-line tool against the stack's database and Rasa server."""
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "pos_assistant.staff", *args],
        cwd=PROJECT_ROOT,
        env=rasa_stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def handoff_status(rasa_stack: RasaStack, conversation: str) -> str | None:
    """This conversation's status in `handoff list --all` (other tests' entries are ignored)."""
    for line in staff(rasa_stack, "handoff", "list", "--all").splitlines():
        fields = line.split()
        if fields and fields[0] == conversation:
            return fields[1]
    return None


def user_messages(rasa_stack: RasaStack, sender: str) -> list[str]:
    events = rasa_stack.tracker(sender)["events"]
    return [event["text"] for event in events if event["event"] == "user"]


def test_a_greeting_says_what_the_assistant_does(rasa_stack: RasaStack, sender: str) -> None:
    replies = rasa_stack.send(sender, "你好")
    assert "POS机纠纷助手" in replies[0]["text"]
    titles = [button["title"] for button in replies[0]["buttons"]]
    assert {"没买却收到POS机", "查询进度", "转人工"} <= set(titles)


def test_an_explicit_session_start_gets_the_welcome(rasa_stack: RasaStack, sender: str) -> None:
    replies = rasa_stack.send(sender, "/session_start")
    assert len(replies) == 1 and "POS机纠纷助手" in replies[0]["text"]
    assert any(button["payload"] == "/request_human" for button in replies[0]["buttons"])


def test_the_scam_warning_comes_first_in_a_new_conversation(
    rasa_stack: RasaStack, sender: str
) -> None:
    replies = rasa_stack.send(sender, "有人自称pos售后让我把验证码发给他")
    assert "安全提醒" in replies[0]["text"]


def test_the_scam_warning_interrupts_opening_a_case(rasa_stack: RasaStack, sender: str) -> None:
    assert "哪类问题" in rasa_stack.texts(sender, "我要投诉")
    replies = rasa_stack.send(sender, "对方让我转账500元解冻")
    assert "安全提醒" in replies[0]["text"]
    assert "请留一个" not in rasa_stack.texts(sender, "没有")  # the case form was left


def test_typed_answers_drive_the_follow_up_questions(rasa_stack: RasaStack, sender: str) -> None:
    rasa_stack.send(sender, "业务员说办机送礼品 结果礼品一直没收到")
    assert "超过对方承诺" in rasa_stack.texts(sender, "没有 就是口头说的")
    advice = rasa_stack.texts(sender, "还没到他说的时间")
    # Only a spoken promise, not yet due: wait and get it in writing; no complaint to 12315 yet.
    assert "还没到约定时间：先等" in advice and "口头承诺" in advice
    # The office line names 12315 in every answer; the complaint step itself must be absent.
    assert "打12315投诉商家" not in advice


def test_two_misses_offer_a_person_and_the_handoff_holds_until_released(
    rasa_stack: RasaStack, sender: str
) -> None:
    assert "帮不上忙" in rasa_stack.texts(sender, "帮我推荐一只股票")
    second = rasa_stack.texts(sender, "明天会下雨吗")
    assert "转接人工客服吗" in second
    assert "转接人工客服" in rasa_stack.texts(sender, "好的")

    # Handed over: the first message is acknowledged once (not answered), and what the user
    # writes is kept for the agent.
    assert "已留给人工客服" in rasa_stack.texts(sender, "我的机器是拉卡拉的，一直没人理我")
    assert rasa_stack.send(sender, "就是拉卡拉的") == []
    assert "我的机器是拉卡拉的，一直没人理我" in user_messages(rasa_stack, sender)
    assert handoff_status(rasa_stack, conversation_id(sender)) == "waiting"

    staff(rasa_stack, "handoff", "release", conversation_id(sender))
    assert "POS机纠纷助手" in rasa_stack.texts(sender, "你好")


def test_clear_frustration_hands_over(rasa_stack: RasaStack, sender: str) -> None:
    assert "转接人工客服" in rasa_stack.texts(sender, "你们这破机器人听不懂人话吗")
    assert "已留给人工客服" in rasa_stack.texts(sender, "人呢")
    assert rasa_stack.send(sender, "人呢？？") == []  # acknowledged once, not at every line


def test_a_waiting_user_gets_the_privacy_notice_and_no_early_reminder(
    rasa_stack: RasaStack, sender: str
) -> None:
    assert "转接人工客服" in rasa_stack.texts(sender, "转人工")
    # Right after the handoff (well within HANDOFF_REMINDER_SECONDS): only the privacy notice.
    replies = rasa_stack.send(sender, "我的卡号是6222021234567890123")
    assert len(replies) == 1 and "请不要在对话里发送银行卡号" in replies[0]["text"]
    assert rasa_stack.send(sender, "还有人吗") == []


def test_a_user_waiting_in_silence_gets_one_reminder(rasa_stack: RasaStack, sender: str) -> None:
    """Nobody has said anything to this waiting user for longer than HANDOFF_REMINDER_SECONDS.
    Instead of sleeping that long, the conversation is written through Rasa's API: the handoff
    message with an old timestamp, then (a second request, so that it comes after the session
    start Rasa adds to a new conversation) the pause."""
    handoff_message = {
        "event": "bot",
        "text": "已为您转接人工客服，请稍候。",
        "timestamp": time.time() - HANDOFF_REMINDER_SECONDS - 600,
    }
    for events in ([handoff_message], [{"event": "pause"}]):
        response = httpx.post(
            f"{rasa_stack.rasa_url}/conversations/{conversation_id(sender)}/tracker/events",
            params={"token": API_TOKEN},
            json=events,
            timeout=30,
        )
        response.raise_for_status()
    assert response.json()["paused"] is True
    assert "人工客服正在接入" in rasa_stack.texts(sender, "还有人吗")
    assert rasa_stack.send(sender, "喂") == []  # reminded just now: no second reminder
    assert user_messages(rasa_stack, sender) == ["还有人吗", "喂"]


def test_an_agent_reads_the_conversation_and_answers_the_user(
    rasa_stack: RasaStack, sender: str
) -> None:
    rasa_stack.send(sender, "家里收到一台拉卡拉的pos机，我根本没买过，电话13812345678")
    assert "转接人工客服" in rasa_stack.texts(sender, "转人工")
    shown = staff(rasa_stack, "handoff", "show", conversation_id(sender))
    assert "电话138****5678" in shown and "13812345678" not in shown
    assert "understood as: report_unordered_device" in shown and "brand=拉卡拉" in shown
    assert "recommended steps (没买POS机却收到一台设备):" in shown

    staff(
        rasa_stack,
        "handoff",
        "reply",
        conversation_id(sender),
        "您好，我是客服小王",
        "--agent",
        "小王",
    )
    bot_events = [e for e in rasa_stack.tracker(sender)["events"] if e["event"] == "bot"]
    assert bot_events[-1]["text"] == "您好，我是客服小王"
    assert handoff_status(rasa_stack, conversation_id(sender)) == "taken"
    assert rasa_stack.send(sender, "好的 机器是上周收到的") == []  # the agent answers, not the bot


def test_transcripts_keep_phone_numbers_masked(rasa_stack: RasaStack, sender: str) -> None:
    rasa_stack.send(sender, "我的手机13812345678")
    stored = user_messages(rasa_stack, sender)
    assert stored == ["我的手机138****5678"]


def test_a_card_number_typed_to_us_gets_the_notice_then_the_answer(
    rasa_stack: RasaStack, sender: str
) -> None:
    replies = rasa_stack.send(sender, "我卡号6222021234567890123，机器没激活想退押金")
    assert "请不要在对话里发送银行卡号" in replies[0]["text"]
    assert "安全提醒" not in replies[0]["text"]
    later = "\n".join(reply.get("text", "") for reply in replies[1:])
    assert "7天" in later  # the refund advice's first question: bought online within 7 days?
    stored = user_messages(rasa_stack, sender)
    assert stored and all("6222021234567890123" not in text for text in stored)
    assert all("************0123" in text for text in stored)


def test_an_id_number_in_a_case_story_is_noticed_and_stored_masked(
    rasa_stack: RasaStack, sender: str
) -> None:
    rasa_stack.send(sender, "我要投诉")
    rasa_stack.send(sender, "赠品没寄")
    assert "说说经过" in rasa_stack.texts(sender, "13812345678")
    replies = rasa_stack.send(
        sender, "业务员拿我身份证110101199003071234办的机，说好的赠品一直没寄"
    )
    assert "请不要在对话里发送" in replies[0]["text"]
    assert "补充" in replies[-1]["text"]  # the story was taken; the form goes on
    summary = rasa_stack.texts(sender, "跳过")
    assert "110***********1234" in summary and "110101199003071234" not in summary
    created = rasa_stack.texts(sender, "对")
    case_number = re.search(r"CS\d{10}", created)
    assert case_number, created
    # What the database holds, read directly (not through the store's own code).
    database = rasa_stack.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        (description,) = connection.execute(
            "SELECT description FROM cases WHERE case_number = ?", (case_number.group(),)
        ).fetchone()
    assert "110***********1234" in description and "110101199003071234" not in description


def test_a_code_someone_asked_for_is_still_a_scam_warning(
    rasa_stack: RasaStack, sender: str
) -> None:
    replies = rasa_stack.send(sender, "他让我报验证码，我已经报了483920")
    assert "安全提醒" in replies[0]["text"]


@pytest.mark.parametrize(
    "message",
    ["", "   ", "😀😀😀", "？？？", "啊" * 6000, "<xml>&lt;</xml>", "\u0000\u202e控制字符"],
    ids=["empty", "spaces", "emoji", "punctuation", "huge", "markup", "control-characters"],
)
def test_odd_messages_get_a_polite_answer_and_the_server_keeps_going(
    rasa_stack: RasaStack, sender: str, message: str
) -> None:
    replies = rasa_stack.send(sender, message)
    texts = [reply.get("text") or "" for reply in replies]
    assert texts and all(text.strip() for text in texts), replies  # an answer, never silence
    assert "Traceback" not in "".join(texts)
    # The conversation still works afterwards.
    assert "POS机纠纷助手" in rasa_stack.texts(sender, "你好")

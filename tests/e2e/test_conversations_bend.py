"""Two questions in one message, forms that bend, and a handoff that informs and can be undone,
through the real Rasa server and action server, over REST and WeChat."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.e2e.stack import RasaStack, conversation_id
from tests.e2e.test_conversation_flows import handoff_status
from tests.fakes.wechat_server import post_signed, reply_fields, text_message

pytestmark = pytest.mark.e2e

_msg_ids = itertools.count(int(time.time() * 1000) + 1_900_000)


def wechat(stack: RasaStack, openid: str, content: str) -> str:
    answer = post_signed(
        stack.rasa_url, stack.env["WECHAT_TOKEN"], text_message(openid, content, next(_msg_ids))
    )
    assert answer.status_code == 200, answer.text
    return reply_fields(answer.text)["Content"]


def wait_until_resumed(stack: RasaStack, sender: str, channel: str = "rest") -> None:
    """The resume is appended when the withdrawing turn has ended: wait for that state."""
    deadline = time.monotonic() + 60
    while stack.tracker(sender, channel)["paused"]:
        assert time.monotonic() < deadline, "the conversation was never given back"
        time.sleep(0.2)


# --- two questions ---------------------------------------------------------------------------


def test_rest_a_scam_and_a_deposit_question_warning_first_then_the_deposit(
    rasa_stack: RasaStack, sender: str
) -> None:
    first = rasa_stack.texts(sender, "有人打电话说是POS售后要我验证码，还有我那个押金怎么退")
    assert first.startswith("【安全提醒】"), first
    assert "您问了两件事：可疑来电，还有押金怎么退" in first  # named after the warning
    reply = rasa_stack.texts(sender, "没有，我没给他")
    intro = reply.index("另外，您还问了“押金怎么退”")
    assert reply.index("可疑来电") < intro < reply.index("网上（或电话、电视、邮购）买的")


def test_wechat_the_second_question_is_answered_in_the_same_reply(
    rasa_stack: RasaStack, sender: str
) -> None:
    content = wechat(rasa_stack, f"o-{sender}", "办一台pos机要多少钱，顺便问下怎么激活")
    assert content.index("办POS机大概花多少钱") < content.index("另外，您还问了“怎么激活”")


# --- handoff ---------------------------------------------------------------------------------


def test_rest_a_handoff_informs_and_can_be_undone(rasa_stack: RasaStack, sender: str) -> None:
    started = rasa_stack.texts(sender, "转人工")
    for needed in ("转接人工客服", "工作时间", "96110", "冻结", "不用了"):
        assert needed in started, started
    assert "已留给人工客服" in rasa_stack.texts(sender, "机器是上周收到的")
    assert handoff_status(rasa_stack, conversation_id(sender)) == "waiting"

    assert "已取消转人工" in rasa_stack.texts(sender, "不用人工了，我自己登记")
    assert handoff_status(rasa_stack, conversation_id(sender)) == "released"
    wait_until_resumed(rasa_stack, sender)
    assert "哪类问题" in rasa_stack.texts(sender, "登记工单")


def test_rest_a_scam_message_while_waiting_gets_the_emergency_steps(
    rasa_stack: RasaStack, sender: str
) -> None:
    rasa_stack.send(sender, "转人工")
    rasa_stack.send(sender, "有人吗")
    reply = rasa_stack.texts(sender, "刚才又有人打电话让我报验证码")
    assert reply.index("屏幕共享") < reply.index("110") < reply.index("冻结"), reply
    assert "96110" in reply


def test_wechat_no_thanks_gives_the_conversation_back(rasa_stack: RasaStack, sender: str) -> None:
    openid = f"o-{sender}"
    assert "转接人工客服" in wechat(rasa_stack, openid, "我要人工客服")
    assert "已取消转人工" in wechat(rasa_stack, openid, "不用了")
    wait_until_resumed(rasa_stack, openid, "wechat")
    assert handoff_status(rasa_stack, conversation_id(openid, "wechat")) == "released"
    assert "已留给人工客服" not in wechat(rasa_stack, openid, "押金怎么退")


# --- forms that bend -------------------------------------------------------------------------


def test_rest_a_case_request_naming_its_category_asks_for_the_phone(
    rasa_stack: RasaStack, sender: str
) -> None:
    reply = rasa_stack.texts(sender, "帮我登记一下，未激活退押金的")
    assert "手机号" in reply and "哪类问题" not in reply, reply


def test_rest_side_question_resume_and_correction_in_the_case_form(
    rasa_stack: RasaStack, sender: str
) -> None:
    assert "哪类问题" in rasa_stack.texts(sender, "我要登记工单")
    assert "手机号" in rasa_stack.texts(sender, "没买却收到POS机")
    side = rasa_stack.texts(sender, "这种一般多久能处理好")
    assert "时限" in side and "手机号" in side, side
    rasa_stack.send(sender, "13612345678")
    assert "【安全提醒】" in rasa_stack.texts(sender, "有人打电话说是售后要我的验证码，我没给")
    resumed = rasa_stack.texts(sender, "继续刚才的登记")
    assert "经过" in resumed and "哪类问题" not in resumed, resumed
    rasa_stack.send(sender, "上周收到一台没申请过的机器，包裹里有张卡片让我激活")
    assert "确认登记吗" in rasa_stack.texts(sender, "跳过")
    corrected = rasa_stack.texts(sender, "类别弄错了，应该是赠品没寄")
    assert "办机赠品没寄" in corrected and "确认登记吗" in corrected, corrected
    assert "工单已登记" in rasa_stack.texts(sender, "是")


def test_wechat_not_bought_online_corrects_the_refund_advice(
    rasa_stack: RasaStack, sender: str
) -> None:
    openid = f"o-{sender}"
    wechat(rasa_stack, openid, "机器没激活想退押金，交了299")
    wechat(rasa_stack, openid, "是")
    corrected = wechat(rasa_stack, openid, "不是网上买的，业务员上门办的")
    assert "未激活的POS机退不了" in corrected and "个人怎么申请POS机" not in corrected


def test_wechat_a_case_request_naming_its_category_asks_for_the_phone(
    rasa_stack: RasaStack, sender: str
) -> None:
    reply = wechat(rasa_stack, f"o-{sender}", "帮我登记一下，未激活退押金的")
    assert "手机号" in reply and "哪类问题" not in reply, reply


# --- repetition and length -------------------------------------------------------------------


def test_wechat_the_same_report_twice_gets_a_reminder_and_too_long_gets_three_lines(
    rasa_stack: RasaStack, sender: str
) -> None:
    openid = f"o-{sender}"
    first = wechat(rasa_stack, openid, "有人打电话自称POS售后要我验证码，我没给")
    assert first.startswith("【安全提醒】"), first
    again = wechat(rasa_stack, openid, "刚才有个POS售后又打电话来了，要验证码，我还是没给")
    assert "要再看一遍完整步骤吗" in again and len(again) < len(first), again
    shorter = wechat(rasa_stack, openid, "字太多了我眼睛看不清")
    assert "1. " in shorter and "3. " in shorter and "4. " not in shorter, shorter

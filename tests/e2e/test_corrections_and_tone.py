"""Corrections of any line of the case summary, a "不对…" that corrects a fact the steps assumed,
Cantonese, a family member's device, anger that still asks, a victim's later turns and follow-ups,
through the real Rasa server and action server, over REST and WeChat."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.e2e.stack import RasaStack
from tests.fakes.wechat_server import post_signed, reply_fields, text_message

pytestmark = pytest.mark.e2e

_msg_ids = itertools.count(int(time.time() * 1000) + 2_900_000)


def wechat(stack: RasaStack, openid: str, content: str) -> str:
    answer = post_signed(
        stack.rasa_url, stack.env["WECHAT_TOKEN"], text_message(openid, content, next(_msg_ids))
    )
    assert answer.status_code == 200, answer.text
    return reply_fields(answer.text)["Content"]


# --- the case form: any line of the summary --------------------------------------------------


def test_rest_the_description_and_the_serial_are_corrected_at_the_confirmation(
    rasa_stack: RasaStack, sender: str
) -> None:
    say = rasa_stack.texts
    say(sender, "我要登记工单")
    say(sender, "未激活退押金")
    say(sender, "13912345678")
    say(sender, "机器没激活")
    assert "确认登记吗" in say(sender, "机身号 88001234567")
    serial = say(sender, "序列号不对，是 88001234576")
    assert "88001234576" in serial and "88001234567" not in serial, serial
    assert "确认登记吗" in serial and "手机号" not in serial, serial
    asked = say(sender, "描述写错了")
    assert "请简单说说经过" in asked and "确认登记吗" not in asked, asked
    summary = say(sender, "三月份业务员上门办的机器，一直没激活，押金199找他退他不理")
    assert "押金199找他退他不理" in summary and "确认登记吗" in summary, summary
    assert "工单已登记" in say(sender, "是")


def test_wechat_the_waybill_is_corrected_at_the_confirmation(
    rasa_stack: RasaStack, sender: str
) -> None:
    openid = f"o-{sender}"
    wechat(rasa_stack, openid, "帮我开个工单")
    wechat(rasa_stack, openid, "没买却收到POS机")
    wechat(rasa_stack, openid, "13812345678")
    wechat(rasa_stack, openid, "上个月收到一台没订过的刷卡机，有人打电话要我激活")
    first = wechat(rasa_stack, openid, "快递单号 SF1234567890123")
    assert "SF1234567890123" in first and "确认登记吗" in first, first
    corrected = wechat(rasa_stack, openid, "运单号应该是SF1234567890124")
    assert "SF1234567890124" in corrected and "SF1234567890123" not in corrected, corrected
    assert "确认登记吗" in corrected, corrected


# --- a "不对" that corrects a fact -------------------------------------------------------------


def test_rest_not_bought_online_after_the_steps_is_a_correction_not_a_no(
    rasa_stack: RasaStack, sender: str
) -> None:
    rasa_stack.texts(sender, "机器一直没激活，想退押金，交了199")
    assert "七天无理由" in rasa_stack.texts(sender, "是")
    corrected = rasa_stack.texts(sender, "不对 我不是网购 当时是推销员上门给办的")
    assert "已记下" in corrected and "未激活的POS机退不了" in corrected, corrected
    assert "七天无理由" not in corrected and "如果还有其他问题" not in corrected, corrected


# --- a victim's later turns ------------------------------------------------------------------


def test_rest_a_victim_keeps_110_first_without_the_same_introduction_each_time(
    rasa_stack: RasaStack, sender: str
) -> None:
    first = rasa_stack.texts(sender, "有人冒充POS售后，我把验证码给他了，卡里少了两千")
    assert "立即打110报警" in first, first
    replies = [rasa_stack.texts(sender, text) for text in ("下一步呢", "银行那边还要我做什么")]
    for reply in replies:
        assert "110" in reply and "冻结银行卡" in reply, reply
    introductions = sum("您说过已经把验证码" in reply for reply in replies)
    assert introductions <= 1, replies


def test_rest_a_victim_who_called_110_is_told_only_the_steps_left(
    rasa_stack: RasaStack, sender: str
) -> None:
    rasa_stack.texts(sender, "有人冒充POS售后，我把验证码给他了，卡里少了两千")
    police = rasa_stack.texts(sender, "报警了 下一步呢")
    assert "您已经报了警" in police and "冻结银行卡" in police, police
    assert "马上打110报警" not in police, police
    both = rasa_stack.texts(sender, "卡也冻结了")
    assert "做得对" in both and "打银行卡背面" not in both, both
    later = rasa_stack.texts(sender, "还要做什么")
    assert "【先做这几件事】" not in later and "修改银行卡和支付密码" in later, later


# --- emotion, dialect, a family member's device ----------------------------------------------


def test_rest_anger_that_asks_gets_a_word_then_the_answer(
    rasa_stack: RasaStack, sender: str
) -> None:
    reply = rasa_stack.texts(sender, "你们这什么破助手！！押金到底退不退")
    assert reply.startswith("让您着急了"), reply
    assert "帮不上忙" not in reply and len(reply) > len("让您着急了，抱歉。") + 10, reply


def test_wechat_cantonese_find_and_a_family_members_device(
    rasa_stack: RasaStack, sender: str
) -> None:
    cantonese = wechat(rasa_stack, f"o-{sender}", "我搵唔到人退按金，部機冇激活過")
    assert "网上" in cantonese and "收到还不到7天" in cantonese, cantonese  # the refund question
    family = wechat(rasa_stack, f"o-{sender}-2", "我儿子给我寄了个pos机 我不会用 怎么激活啊")
    assert "激活" in family and "有没有人打电话或发消息联系您" not in family, family


def test_wechat_how_to_send_it_back_is_never_the_activation_guide(
    rasa_stack: RasaStack, sender: str
) -> None:
    openid = f"o-{sender}"
    wechat(rasa_stack, openid, "家里收到一台没申请过的POS机")
    wechat(rasa_stack, openid, "没有")
    wechat(rasa_stack, openid, "没有")
    back = wechat(rasa_stack, openid, "那机器怎么寄回去")
    assert "退回" in back and "不要激活" in back and "激活步骤" not in back, back

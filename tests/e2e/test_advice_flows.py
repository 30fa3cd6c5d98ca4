"""Advice end to end: real Rasa server + action server, typical messages, follow-up answers."""

from __future__ import annotations

import itertools
import time

import pytest
import yaml

from tests.e2e.stack import PROJECT_ROOT, RasaStack
from tests.fakes.wechat_server import post_signed, reply_fields, text_message

pytestmark = pytest.mark.e2e

NEXT_ACTION_PAYLOADS = ["/open_case", "/check_case_status", "/request_human"]
DETAILS, LEGAL = "/ask_advice_details", "/ask_advice_legal"
VICTIM_STEP = "立即打110报警"  # only in the steps for someone who already gave something
_msg_ids = itertools.count(int(time.time() * 1000) + 500_000)
_RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
# A new conversation opens with the session welcome; the answer itself comes after it.
SESSION_WELCOME_TEXTS = {v.get("text") for v in _RESPONSES.get("utter_session_welcome", [])}


def answer_texts(replies: list[dict]) -> list[str]:
    """Reply texts without the session welcome that opens a new conversation."""
    texts = [reply.get("text") or "" for reply in replies]
    while texts and texts[0] in SESSION_WELCOME_TEXTS:
        texts.pop(0)
    return texts


def reply_texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def answer_all(stack: RasaStack, sender: str, first: str, answers: list[str]) -> list[dict]:
    """Sends the first message, then each 是/否 payload; returns the replies to the last one."""
    replies = stack.send(sender, first)
    for answer in answers:
        assert any("/affirm" in str(r.get("buttons")) for r in replies), reply_texts(replies)
        replies = stack.send(sender, answer)
    return replies


def assert_ends_with_next_actions(replies: list[dict]) -> None:
    assert [b["payload"] for b in replies[-1].get("buttons", [])][-3:] == NEXT_ACTION_PAYLOADS


def assert_phone_sized_advice(replies: list[dict]) -> None:
    """Two bubbles: the steps (under 300 characters), then the core and the quick replies."""
    texts = answer_texts(replies)
    advice = texts[-2:]
    assert "\n1. " in advice[0] and len(advice[0]) < 300, advice[0]
    # the anti-fraud core: in the second bubble, or in the scam warning that opened this reply
    core = advice[1] if "防骗提醒" in advice[1] else texts[0]
    assert "96110" in core and "冻结银行卡" in core and "挂断" in core
    assert next(b["payload"] for b in replies[-1]["buttons"]) == DETAILS


def situation_of(stack: RasaStack, sender: str) -> str | None:
    return stack.tracker(sender)["slots"].get("situation")


def test_unordered_device_asks_then_advises(rasa_stack: RasaStack, sender: str) -> None:
    first = rasa_stack.texts(sender, "莫名其妙收到一台pos机，我根本没申请过")
    assert "索要验证码" in first  # the first follow-up question
    rasa_stack.send(sender, "/deny")
    replies = rasa_stack.send(sender, "/deny")
    text = reply_texts(replies)
    assert "核实来源" in text and "保留证据" in text and "别激活" in text
    assert "没签收就拒收" in text and "不处理就打12315" not in text
    assert_ends_with_next_actions(replies)
    assert_phone_sized_advice(replies)
    assert situation_of(rasa_stack, sender) == "unordered_device"


def test_unordered_device_paid_changes_the_advice(rasa_stack: RasaStack, sender: str) -> None:
    text = reply_texts(
        answer_all(rasa_stack, sender, "没买POS机却收到一台设备咋回事", ["/affirm", "/affirm"])
    )
    assert "不处理就打12315" in text and "1. 有人要验证码" in text and "96110" in text


def test_gift_not_mailed(rasa_stack: RasaStack, sender: str) -> None:
    replies = answer_all(rasa_stack, sender, "办pos机说送礼品 到现在都没寄", ["/affirm", "/affirm"])
    text = reply_texts(replies)
    assert "打12315投诉商家" in text and "明确日期" in text
    assert_ends_with_next_actions(replies)
    assert situation_of(rasa_stack, sender) == "gift_not_mailed"


def test_gift_not_yet_due(rasa_stack: RasaStack, sender: str) -> None:
    text = reply_texts(answer_all(rasa_stack, sender, "办pos送的赠品还没收到", ["/deny", "/deny"]))
    assert "还没到约定时间" in text and "口头承诺" in text and "打12315投诉商家" not in text


@pytest.mark.parametrize(
    ("deposit", "expected", "absent"),
    [("/affirm", "不给个人账户转“手续费”", "不要转任何"), ("/deny", "不要转任何“取消费”", None)],
)
def test_refuse_delivery(
    rasa_stack: RasaStack, sender: str, deposit: str, expected: str, absent: str | None
) -> None:
    replies = answer_all(rasa_stack, sender, "网上申请的pos机不签收会怎样", [deposit])
    text = reply_texts(replies)
    assert "取消申请" in text and expected in text
    assert absent is None or absent not in text
    assert situation_of(rasa_stack, sender) == "refuse_delivery"


def test_no_activation_refund(rasa_stack: RasaStack, sender: str) -> None:
    text = reply_texts(answer_all(rasa_stack, sender, "pos机没激活能退吗", ["/affirm", "/affirm"]))
    for step in ("看协议", "联系销售商", "退押金只找官方客服", "协商不成"):
        assert step in text
    assert "七天无理由退货" in text and "支付机构的问题先向机构投诉" in text
    assert "第二十五条" in reply_texts(rasa_stack.send(sender, LEGAL))
    assert situation_of(rasa_stack, sender) == "no_activation_refund"


def test_no_activation_refund_offline_purchase(rasa_stack: RasaStack, sender: str) -> None:
    text = reply_texts(answer_all(rasa_stack, sender, "不激活不退回 怎么办", ["/deny", "/deny"]))
    assert "联系销售商" in text and "七天无理由" not in text
    assert "支付机构的问题先向机构投诉" not in text


def test_suspicious_call_code_already_given_skips_the_question(
    rasa_stack: RasaStack, sender: str
) -> None:
    replies = rasa_stack.send(sender, "我把验证码告诉他了 怎么办 他说是pos客服")
    texts = answer_texts(replies)
    assert texts[0].startswith("【安全提醒】")
    joined = "\n".join(texts)
    assert VICTIM_STEP in joined and "是否已经把验证码" not in joined
    assert_ends_with_next_actions(replies)
    assert situation_of(rasa_stack, sender) == "suspicious_call"


def test_suspicious_call_asks_then_advises(rasa_stack: RasaStack, sender: str) -> None:
    first = rasa_stack.send(sender, "有人自称pos售后给我打电话 我没办过pos")
    assert answer_texts(first)[0].startswith("【安全提醒】")
    assert "是否已经把验证码" in reply_texts(first)
    text = reply_texts(rasa_stack.send(sender, "/deny"))
    assert "1. 直接挂断" in text and "96110" in text and VICTIM_STEP not in text


def test_a_scam_signal_interrupts_another_form(rasa_stack: RasaStack, sender: str) -> None:
    assert "索要验证码" in rasa_stack.texts(sender, "收到一台pos机 寄件人完全不认识 怎么办")
    replies = rasa_stack.send(sender, "刚才有人打电话让我报一下短信验证码")
    assert answer_texts(replies)[0].startswith("【安全提醒】")
    tracker = rasa_stack.tracker(sender)
    assert (tracker.get("active_loop") or {}).get("name") == "suspicious_call_form"
    text = reply_texts(rasa_stack.send(sender, "/affirm"))
    assert "110" in text and "冻结" in text
    assert situation_of(rasa_stack, sender) == "suspicious_call"


def test_cancel_leaves_the_questions(rasa_stack: RasaStack, sender: str) -> None:
    rasa_stack.send(sender, "网上申请的pos机不签收会怎样")
    assert "先不问了" in rasa_stack.texts(sender, "/cancel")
    assert not (rasa_stack.tracker(sender).get("active_loop") or {}).get("name")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("办个pos要交多少钱", ["59元", "300元", "不是任何承诺", "首刷"]),
        ("个人能办pos吗", ["年满18周岁", "支付业务许可证"]),
        ("新机器到了怎么激活", ["硬件检查", "测试交易", "正式激活"]),
    ],
)
def test_faq(rasa_stack: RasaStack, sender: str, message: str, expected: list[str]) -> None:
    replies = rasa_stack.send(sender, message)
    text = reply_texts(replies)
    for fragment in expected:
        assert fragment in text
    assert_ends_with_next_actions(replies)


# --- the first reply to a scam message, and "already given?" read from the words -----------------


def assert_scam_warning_first(texts: list[str]) -> None:
    first = texts[0]
    assert first.startswith("【安全提醒】")
    for word in ("110", "96110", "不要给", "挂断"):
        assert word in first, word


def test_not_given_gets_no_victim_steps_and_no_question(rasa_stack: RasaStack, sender: str) -> None:
    message = "刚接到个电话，说是pos售后，让我把手机收到的验证码报给他，我还没报"
    replies = rasa_stack.send(sender, message)
    texts = answer_texts(replies)
    assert_scam_warning_first(texts)
    joined = "\n".join(texts)
    assert "1. 直接挂断" in joined and VICTIM_STEP not in joined
    assert "是否已经把验证码" not in joined
    assert_phone_sized_advice(replies)


def test_only_asked_is_asked_first(rasa_stack: RasaStack, sender: str) -> None:
    replies = rasa_stack.send(sender, "刚接到个电话，说是pos售后，让我把手机收到的验证码报给他")
    texts = answer_texts(replies)
    assert_scam_warning_first(texts)
    assert "是否已经把验证码" in texts[-1] and VICTIM_STEP not in "\n".join(texts)
    assert VICTIM_STEP in reply_texts(rasa_stack.send(sender, "报了"))


def test_details_and_law_on_request(rasa_stack: RasaStack, sender: str) -> None:
    replies = answer_all(rasa_stack, sender, "pos机没激活能退吗", ["/affirm", "/affirm"])
    assert [b["payload"] for b in replies[-1]["buttons"]][:2] == [DETAILS, LEGAL]
    details = reply_texts(rasa_stack.send(sender, DETAILS))
    assert "详细说明" in details and "请留好这些证据" in details and "财务顾问" in details
    legal = reply_texts(rasa_stack.send(sender, "法律依据"))  # typed, not clicked
    assert "第二十五条（大意）" in legal and "确认不宜退货" in legal


def test_details_before_any_advice(rasa_stack: RasaStack, sender: str) -> None:
    replies = rasa_stack.send(sender, DETAILS)
    assert "请先说说您遇到的是哪种情况" in reply_texts(replies)


# --- the same over WeChat: numbered options, the warning first ----------------------------------


def wechat(stack: RasaStack, openid: str, content: str) -> str:
    answer = post_signed(
        stack.rasa_url, stack.env["WECHAT_TOKEN"], text_message(openid, content, next(_msg_ids))
    )
    assert answer.status_code == 200, answer.text
    return reply_fields(answer.text)["Content"]


def test_wechat_scam_reply_starts_with_the_warning(rasa_stack: RasaStack, sender: str) -> None:
    content = wechat(rasa_stack, f"o-{sender}", "有人自称pos售后打电话，让我报验证码")
    warning = content.index("【安全提醒】")
    question = content.index("是否已经把验证码")
    for word in ("110", "96110", "挂断"):
        assert warning < content.index(word) < question, word
    assert "1. 是" in content and "2. 否" in content


def test_wechat_details_by_number(rasa_stack: RasaStack, sender: str) -> None:
    openid = f"o-{sender}"
    wechat(rasa_stack, openid, "网上申请的pos机不签收会怎样")
    advice = wechat(rasa_stack, openid, "1")  # 1. 是: a deposit was paid
    assert "1. 详细说明" in advice and "\n1. 尽快通过服务商官网" in advice
    details = wechat(rasa_stack, openid, "1")
    assert "详细说明" in details and "不会因此产生征信记录" in details

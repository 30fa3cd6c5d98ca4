"""Advice actions and form validation, driven with real trackers, the real domain and knowledge."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import (
    ActionAdviceDetails,
    ActionAdviceLegal,
    ActionAnswerFaq,
    ActionResetAdviceAnswers,
    AdviseSituationAction,
    advise_action,
)
from actions.advice_forms import ValidateSituationForm, situation_form
from actions.knowledge_replies import MoreAboutSituationAction
from pos_assistant.knowledge import MAX_MESSAGE_CHARS, get_knowledge_base
from pos_assistant.situations import situations
from tests.paths import PROJECT_ROOT
from tests.unit.trackers import build_tracker, parse_data

SITUATIONS = situations().codes
DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
NEXT_ACTION_PAYLOADS = ["/open_case", "/check_case_status", "/request_human"]


def tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "affirm",
    active_loop: str | None = None,
    events: list[dict] | None = None,
) -> Tracker:
    return build_tracker(text, intent, slots=slots, events=events, active_loop=active_loop)


async def run_advice(action: AdviseSituationAction, slots: dict[str, Any]) -> tuple[str, list]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(slots), DOMAIN)
    assert len(dispatcher.messages) == 2  # the steps, then the core, who-handles-what and buttons
    for message in dispatcher.messages:
        assert message["text"] and len(message["text"]) <= MAX_MESSAGE_CHARS
    payloads = [b["payload"] for b in dispatcher.messages[-1]["buttons"]]
    assert payloads[0] == "/ask_advice_details" and payloads[-3:] == NEXT_ACTION_PAYLOADS
    return "\n".join(m["text"] for m in dispatcher.messages), events


async def run_more(
    action: MoreAboutSituationAction, slots: dict[str, Any], situation: str | None = None
) -> list[dict]:
    """The 详细说明 / 法律依据 answer after the advice for `situation` with these answers."""
    dispatcher = CollectingDispatcher()
    assert await action.run(dispatcher, tracker({**slots, "situation": situation}), DOMAIN) == []
    return dispatcher.messages


# --- advice per situation and answers -----------------------------------------------------------


@pytest.mark.parametrize("codes", [True, False])
@pytest.mark.parametrize("paid", [True, False])
async def test_unordered_device(codes: bool, paid: bool) -> None:
    slots = {"asked_for_codes_or_money": codes, "paid_on_delivery": paid}
    text, events = await run_advice(advise_action("unordered_device"), slots)
    assert "核实来源" in text and "保留证据" in text and "别激活" in text
    assert ("1. 有人要验证码" in text) is codes  # the scam step comes first when it applies
    assert "96110" in text and "冻结银行卡" in text  # the anti-fraud core, on every branch
    assert ("不处理就打12315" in text) is paid
    assert ("没签收就拒收" in text) is (not paid)
    assert events[0] == SlotSet("situation", "unordered_device")  # then advised_answers
    legal = "\n".join(
        m["text"] for m in await run_more(ActionAdviceLegal(), slots, "unordered_device")
    )
    assert "《民法典》第一百四十条（大意）" in legal


@pytest.mark.parametrize("in_writing", [True, False])
@pytest.mark.parametrize("overdue", [True, False])
async def test_gift_not_mailed(in_writing: bool, overdue: bool) -> None:
    slots = {"gift_promise_in_writing": in_writing, "gift_past_promised_date": overdue}
    text, events = await run_advice(advise_action("gift_not_mailed"), slots)
    assert ("打12315投诉商家" in text) is overdue
    assert ("还没到约定时间" in text) is (not overdue)
    assert ("口头承诺" in text) is (not in_writing)
    assert "不为“领赠品”另交任何费用" in text
    legal = "\n".join(
        m["text"] for m in await run_more(ActionAdviceLegal(), slots, "gift_not_mailed")
    )
    assert ("第五十五条" in legal) is (in_writing and overdue)
    assert events[0] == SlotSet("situation", "gift_not_mailed")  # then advised_answers


@pytest.mark.parametrize("deposit", [True, False])
async def test_refuse_delivery(deposit: bool) -> None:
    slots = {"deposit_paid": deposit}
    text, events = await run_advice(advise_action("refuse_delivery"), slots)
    assert "取消申请" in text and "拒收" in text
    assert ("不给个人账户转“手续费”" in text) is deposit
    assert ("不要转任何“取消费”" in text) is (not deposit)
    details = "\n".join(
        m["text"] for m in await run_more(ActionAdviceDetails(), slots, "refuse_delivery")
    )
    assert "不会因此产生征信记录" in details and "信用记录受损" not in details
    assert ("以您签的协议为准" in details) is deposit
    assert events[0] == SlotSet("situation", "refuse_delivery")  # then advised_answers


@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("paid", [True, False])
async def test_no_activation_refund(online: bool, paid: bool) -> None:
    slots = {"bought_online_within_7_days": online, "paid_deposit_or_fee": paid}
    text, events = await run_advice(advise_action("no_activation_refund"), slots)
    for step in ("看协议", "联系销售商", "退押金只找官方客服", "协商不成"):
        assert step in text
    assert ("七天无理由退货" in text) is online
    assert ("支付机构的问题先向机构投诉" in text) is paid
    situation = "no_activation_refund"
    legal = "\n".join(m["text"] for m in await run_more(ActionAdviceLegal(), slots, situation))
    assert ("第二十五条" in legal) is online
    details = "\n".join(m["text"] for m in await run_more(ActionAdviceDetails(), slots, situation))
    for step in ("提供证据", "记录交流", "法律顾问或财务顾问"):
        assert step in details
    assert events[0] == SlotSet("situation", "no_activation_refund")  # then advised_answers


async def test_suspicious_call_when_a_code_was_given() -> None:
    text, events = await run_advice(
        advise_action("suspicious_call"), {"secret_already_given": True}
    )
    first = text.split("\n防骗提醒")[0]
    assert first.index("屏幕共享") < first.index("110") < first.index("冻结") < first.index("修改")
    assert events[0] == SlotSet("situation", "suspicious_call")  # then advised_answers


async def test_suspicious_call_when_nothing_was_given() -> None:
    text, _ = await run_advice(advise_action("suspicious_call"), {"secret_already_given": False})
    first = text.split("\n防骗提醒")[0]
    assert "挂断" in first and "96110" in first and "官网" in first
    assert "冻结" not in first and "110报警" not in first


async def test_string_slot_values_are_understood() -> None:
    text, _ = await run_advice(advise_action("suspicious_call"), {"secret_already_given": "true"})
    assert "立即打110报警" in text


async def test_details_and_law_before_any_advice_ask_for_the_situation() -> None:
    for action in (ActionAdviceDetails(), ActionAdviceLegal()):
        messages = await run_more(action, {})
        assert [m["response"] for m in messages] == ["utter_advice_no_situation"]
        assert "utter_advice_no_situation" in DOMAIN["responses"]


async def test_details_follow_the_situation_slot() -> None:
    slots = {"secret_already_given": True}
    messages = await run_more(ActionAdviceDetails(), slots, "suspicious_call")
    text = "\n".join(m["text"] for m in messages)
    assert "详细说明" in text and "转账凭证和银行流水" in text and "已获许可支付机构名单" in text
    assert next(b["payload"] for b in messages[-1]["buttons"]) == "/ask_advice_legal"


def test_one_advice_action_per_situation() -> None:
    names = {cls().name() for cls in AdviseSituationAction.__subclasses__()}
    assert names == {f"action_advise_{s}" for s in SITUATIONS}


# --- FAQ ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "expected"),
    [("ask_fees", "59元"), ("ask_apply", "年满18周岁"), ("ask_activation", "测试交易")],
)
async def test_faq(intent: str, expected: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(dispatcher, tracker(intent=intent), DOMAIN)
    text = "\n".join(m["text"] for m in dispatcher.messages)
    assert expected in text
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == NEXT_ACTION_PAYLOADS
    assert events == []


async def test_faq_with_an_unexpected_intent_answers_politely() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(intent="greet"), DOMAIN)
    assert dispatcher.messages[0]["response"] == "utter_default"


async def test_reset_clears_only_answered_questions() -> None:
    events = await ActionResetAdviceAnswers().run(
        CollectingDispatcher(),
        tracker({"paid_on_delivery": True, "secret_already_given": False, "situation": "x"}),
        DOMAIN,
    )
    assert events == [SlotSet("paid_on_delivery", None), SlotSet("secret_already_given", None)]


# --- form validation: pre-filled answers and the scam interruption -------------------------------


async def validate(form: ValidateSituationForm, t: Tracker) -> list:
    return await form.run(CollectingDispatcher(), t, DOMAIN)


async def test_code_already_given_is_read_from_the_first_message() -> None:
    events = await validate(
        situation_form("suspicious_call"),
        tracker(text="他说是POS售后，我已经把验证码给他了", intent="report_suspicious_call"),
    )
    assert SlotSet("secret_already_given", True) in events


async def test_no_answer_in_the_message_means_the_question_is_asked() -> None:
    events = await validate(
        situation_form("suspicious_call"),
        tracker(text="有人自称POS售后打电话给我", intent="report_suspicious_call"),
    )
    assert not [e for e in events if e.get("name") == "secret_already_given"]


async def test_two_answers_in_one_message() -> None:
    events = await validate(
        situation_form("gift_not_mailed"),
        tracker(
            text="合同上写了送赠品，说好七天寄，现在都一个月了", intent="report_gift_not_mailed"
        ),
    )
    assert SlotSet("gift_promise_in_writing", True) in events
    assert SlotSet("gift_past_promised_date", True) in events


async def test_an_answered_slot_is_not_overwritten_by_words() -> None:
    t = tracker(
        slots={"paid_on_delivery": False, "requested_slot": "paid_on_delivery"},
        text="/deny",
        intent="deny",
        active_loop="unordered_device_form",
        events=[{"event": "slot", "name": "paid_on_delivery", "value": False}],
    )
    events = await validate(situation_form("unordered_device"), t)
    assert SlotSet("paid_on_delivery", False) in events
    assert SlotSet("paid_on_delivery", True) not in events


async def test_a_scam_signal_inside_another_form_fills_nothing() -> None:
    # Nothing extracted → Rasa rejects the form → the interruption rule shows the scam warning.
    t = tracker(
        slots={"requested_slot": "asked_for_codes_or_money"},
        text="有人打电话来让我交钱，还要验证码",
        intent="report_suspicious_call",
        active_loop="unordered_device_form",
    )
    t.latest_message["safety_guard"] = {"triggered": True, "topics": ["verification_code"]}
    assert await validate(situation_form("unordered_device"), t) == []


async def test_a_typed_answer_misread_as_a_scam_report_still_answers_the_question() -> None:
    # The classifier guessed report_suspicious_call, but SafetyGuard saw no scam keyword.
    t = tracker(
        slots={"requested_slot": "gift_promise_in_writing"},
        text="没有 就是口头说的",
        intent="report_suspicious_call",
        active_loop="gift_not_mailed_form",
    )
    events = await validate(situation_form("gift_not_mailed"), t)
    assert SlotSet("gift_promise_in_writing", False) in events


@pytest.mark.parametrize(
    ("text", "intent", "confidence", "expected"),
    [
        # "是我儿子…" is not a yes, when the message confidently asks how to activate.
        ("是我儿子帮我买的吧 怎么开通", "ask_activation", 0.77, None),
        # An unsure classification still leaves the opening to decide.
        ("是 有人打过电话", "ask_activation", 0.3, True),
        ("是的", "affirm", 1.0, True),
        ("没有", "deny", 1.0, False),
    ],
)
async def test_a_reply_opening_with_yes_is_not_an_answer_when_it_asks_something_else(
    text: str, intent: str, confidence: float, expected: bool | None
) -> None:
    message = parse_data(text, intent, confidence=confidence)
    t = build_tracker(
        message=message,
        slots={"requested_slot": "asked_for_codes_or_money"},
        active_loop="unordered_device_form",
    )
    form = situation_form("unordered_device")
    events = await form.get_extraction_events(CollectingDispatcher(), t, DOMAIN)
    values = [e["value"] for e in events if e.get("name") == "asked_for_codes_or_money"]
    assert values == ([] if expected is None else [expected])


# --- the domain matches the knowledge files ------------------------------------------------------


@pytest.mark.parametrize("situation", SITUATIONS)
def test_domain_form_asks_the_knowledge_questions(situation: str) -> None:
    form = DOMAIN["forms"][f"{situation}_form"]
    questions = get_knowledge_base().situations[situation].question_slots
    assert form["required_slots"] == list(questions)
    for slot in questions:
        mappings = DOMAIN["slots"][slot]["mappings"]
        assert {(m["intent"], m["value"]) for m in mappings} == {("affirm", True), ("deny", False)}
        for mapping in mappings:
            assert mapping["conditions"] == [
                {"active_loop": f"{situation}_form", "requested_slot": slot}
            ]
        ask = DOMAIN["responses"][f"utter_ask_{slot}"][0]
        assert [b["payload"] for b in ask["buttons"]] == ["/affirm", "/deny"]
    assert f"validate_{situation}_form" in DOMAIN["actions"]
    assert f"action_advise_{situation}" in DOMAIN["actions"]


def test_situation_slot_accepts_every_situation() -> None:
    assert set(SITUATIONS) <= set(DOMAIN["slots"]["situation"]["values"])


# That the assistant never asks for a secret is checked on every text in
# tests/unit/test_never_asks_for_secrets.py.


# --- "already given?" read from the words --------------------------------------------------------

ISSUE_NOT_GIVEN = "刚接到个电话，说是pos售后，让我把手机收到的验证码报给他，我还没报"
ISSUE_ONLY_ASKED = "刚接到个电话，说是pos售后，让我把手机收到的验证码报给他"


async def test_not_given_is_read_and_never_gets_the_victim_steps() -> None:
    events = await validate(
        situation_form("suspicious_call"),
        tracker(text=ISSUE_NOT_GIVEN, intent="report_suspicious_call"),
    )
    assert SlotSet("secret_already_given", False) in events


async def test_only_asked_is_asked_not_answered() -> None:
    events = await validate(
        situation_form("suspicious_call"),
        tracker(text=ISSUE_ONLY_ASKED, intent="report_suspicious_call"),
    )
    assert not [e for e in events if e.get("name") == "secret_already_given"]


@pytest.mark.parametrize(
    ("reply", "intent", "expected"),
    [
        ("对，他让我报验证码，我还没报", "affirm", False),  # the words win over "affirm"
        ("报了", "report_suspicious_call", True),
        ("/affirm", "affirm", True),
        ("/deny", "deny", False),
    ],
)
async def test_the_reply_to_the_question_is_read_from_its_words(
    reply: str, intent: str, expected: bool
) -> None:
    # Rasa's affirm/deny mapping already filled the slot; validation may correct it from words.
    classified = {"affirm": True, "deny": False}.get(intent)
    events = [{"event": "slot", "name": "secret_already_given", "value": classified}]
    slots = {"requested_slot": "secret_already_given", "secret_already_given": classified}
    t = tracker(
        slots, reply, intent, "suspicious_call_form", events if classified is not None else []
    )
    result = await validate(situation_form("suspicious_call"), t)
    values = [e["value"] for e in result if e.get("name") == "secret_already_given"]
    assert values and values[-1] is expected


@pytest.mark.parametrize("warned", [True, False])
async def test_the_core_is_not_repeated_right_after_the_scam_warning(warned: bool) -> None:
    user = {"event": "user", "text": "有人让我报验证码，我还没报"}
    warning = {"event": "action", "name": "utter_scam_warning"}
    earlier = [warning, {"event": "user", "text": "/deny"}]  # a warning in an earlier reply
    events = [user, warning] if warned else [*earlier, user]
    t = tracker({"secret_already_given": False}, events=events)
    dispatcher = CollectingDispatcher()
    await advise_action("suspicious_call").run(dispatcher, t, DOMAIN)
    text = "\n".join(m["text"] for m in dispatcher.messages)
    assert len(dispatcher.messages) == 2 and "直接挂断" in text
    assert ("防骗提醒" in text) is (not warned)

"""Advice actions and form validation, driven with real trackers, the real domain and knowledge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import (
    ActionAdviseGiftNotMailed,
    ActionAdviseNoActivationRefund,
    ActionAdviseRefuseDelivery,
    ActionAdviseSuspiciousCall,
    ActionAdviseUnorderedDevice,
    ActionAnswerFaq,
    ActionResetAdviceAnswers,
    AdviseSituationAction,
)
from actions.forms_advice import (
    ValidateGiftNotMailedForm,
    ValidateSituationForm,
    ValidateSuspiciousCallForm,
    ValidateUnorderedDeviceForm,
)
from pos_assistant.knowledge import MAX_MESSAGE_CHARS, get_knowledge_base
from pos_assistant.knowledge.loader import SITUATIONS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
NEXT_ACTION_PAYLOADS = ["/open_case", "/check_case_status", "/request_human"]


def tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "affirm",
    active_loop: str | None = None,
    events: list[dict] | None = None,
) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "test-user",
            "slots": dict(slots or {}),
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 1.0}},
            "events": events or [],
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


async def run_advice(action: AdviseSituationAction, slots: dict[str, Any]) -> tuple[str, list]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(slots), DOMAIN)
    for message in dispatcher.messages:
        assert message["text"] and len(message["text"]) <= MAX_MESSAGE_CHARS
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == NEXT_ACTION_PAYLOADS
    return "\n".join(m["text"] for m in dispatcher.messages), events


# --- advice per situation and answers -----------------------------------------------------------


@pytest.mark.parametrize("codes", [True, False])
@pytest.mark.parametrize("paid", [True, False])
async def test_unordered_device(codes: bool, paid: bool) -> None:
    text, events = await run_advice(
        ActionAdviseUnorderedDevice(), {"asked_for_codes_or_money": codes, "paid_on_delivery": paid}
    )
    assert "核实来源" in text and "保留证据" in text and "不要激活" in text
    assert "第一百四十条" in text
    assert ("96110" in text) is codes
    assert ("12315" in text) is paid
    assert ("直接拒收" in text) is (not paid)
    assert events == [SlotSet("situation", "unordered_device")]


@pytest.mark.parametrize("in_writing", [True, False])
@pytest.mark.parametrize("overdue", [True, False])
async def test_gift_not_mailed(in_writing: bool, overdue: bool) -> None:
    text, events = await run_advice(
        ActionAdviseGiftNotMailed(),
        {"gift_promise_in_writing": in_writing, "gift_past_promised_date": overdue},
    )
    assert ("12315" in text) is overdue
    assert ("先等到约定日期" in text) is (not overdue)
    assert ("口头承诺" in text) is (not in_writing)
    assert ("第五十五条" in text) is (in_writing and overdue)
    assert events == [SlotSet("situation", "gift_not_mailed")]


@pytest.mark.parametrize("deposit", [True, False])
async def test_refuse_delivery(deposit: bool) -> None:
    text, events = await run_advice(ActionAdviseRefuseDelivery(), {"deposit_paid": deposit})
    assert "取消申请" in text and "拒收" in text
    assert "不会因此产生征信记录" in text and "信用记录受损" not in text
    assert ("以您签的协议为准" in text) is deposit
    assert ("12363" in text) is deposit
    assert events == [SlotSet("situation", "refuse_delivery")]


@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("paid", [True, False])
async def test_no_activation_refund(online: bool, paid: bool) -> None:
    text, events = await run_advice(
        ActionAdviseNoActivationRefund(),
        {"bought_online_within_7_days": online, "paid_deposit_or_fee": paid},
    )
    for step in ("联系销售商", "提供证据", "等待回应", "协商退款", "记录交流"):
        assert step in text
    assert ("第二十五条" in text) is online
    assert ("12363" in text) is paid
    assert "12315" in text
    assert events == [SlotSet("situation", "no_activation_refund")]


async def test_suspicious_call_when_a_code_was_given() -> None:
    text, events = await run_advice(ActionAdviseSuspiciousCall(), {"secret_already_given": True})
    assert "110" in text and "冻结" in text and "保留记录" in text
    assert text.index("110") < text.index("冻结")
    assert events == [SlotSet("situation", "suspicious_call")]


async def test_suspicious_call_when_nothing_was_given() -> None:
    text, _ = await run_advice(ActionAdviseSuspiciousCall(), {"secret_already_given": False})
    assert "挂断" in text and "96110" in text and "官方网站" in text
    assert "冻结" not in text and "立即拨打110" not in text


async def test_string_slot_values_are_understood() -> None:
    text, _ = await run_advice(ActionAdviseSuspiciousCall(), {"secret_already_given": "true"})
    assert "冻结" in text


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
        ValidateSuspiciousCallForm(),
        tracker(text="他说是POS售后，我已经把验证码给他了", intent="report_suspicious_call"),
    )
    assert SlotSet("secret_already_given", True) in events


async def test_no_answer_in_the_message_means_the_question_is_asked() -> None:
    events = await validate(
        ValidateSuspiciousCallForm(),
        tracker(text="有人自称POS售后打电话给我", intent="report_suspicious_call"),
    )
    assert not [e for e in events if e.get("name") == "secret_already_given"]


async def test_two_answers_in_one_message() -> None:
    events = await validate(
        ValidateGiftNotMailedForm(),
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
    events = await validate(ValidateUnorderedDeviceForm(), t)
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
    assert await validate(ValidateUnorderedDeviceForm(), t) == []


async def test_a_typed_answer_misread_as_a_scam_report_still_answers_the_question() -> None:
    # The classifier guessed report_suspicious_call, but SafetyGuard saw no scam keyword.
    t = tracker(
        slots={"requested_slot": "gift_promise_in_writing"},
        text="没有 就是口头说的",
        intent="report_suspicious_call",
        active_loop="gift_not_mailed_form",
    )
    events = await validate(ValidateGiftNotMailedForm(), t)
    assert SlotSet("gift_promise_in_writing", False) in events


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

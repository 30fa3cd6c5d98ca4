"""Forms that bend: a case request naming its category, corrections at the confirmation, 继续."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionResetAdviceAnswers
from actions.case_form_bends import category_named_in_request, situation_interrupted_by_case_form
from actions.form_resume import ActionResumeForm, interrupted_form
from actions.memory import remember_facts
from actions.summary_corrections import corrections_at_confirmation
from tests.unit.test_conversation_actions import DOMAIN


def tracker(
    text: str,
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    message = {"text": text, "intent": {"name": intent}, "entities": list(entities or [])}
    return Tracker.from_dict(
        {
            "sender_id": "bends",
            "slots": dict(slots or {}),
            "latest_message": message,
            "events": [*(events or []), {"event": "user", "text": text, "parse_data": message}],
            "paused": False,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        ("帮我登记一下，未激活退押金的", "open_case", "no_activation_refund"),
        ("投诉 礼品没寄来", "open_case", "gift_not_mailed"),
        ("登记工单", "open_case", None),
        ("未激活退押金", "report_no_activation_refund", None),  # advice, not a case request
    ],
)
def test_a_case_request_names_its_category(text: str, intent: str, category: str | None) -> None:
    assert category_named_in_request(tracker(text, intent)) == category


def test_a_category_correction_changes_it_and_asks_again() -> None:
    dispatcher = CollectingDispatcher()
    slots = {"case_category": "unordered_device", "phone_number": "13612345678"}
    changes = corrections_at_confirmation(
        dispatcher, tracker("类别错了，应该是赠品没寄", "report_gift_not_mailed", slots)
    )
    assert changes == {"case_category": "gift_not_mailed", "case_confirmed": None}
    assert dispatcher.messages[0]["response"] == "utter_case_field_corrected"


@pytest.mark.parametrize("answer", ["是", "确认", "收到", "好的 没问题"])
def test_yes_is_not_a_correction(answer: str) -> None:
    slots = {"case_category": "unordered_device", "phone_number": "13612345678"}
    assert (
        corrections_at_confirmation(CollectingDispatcher(), tracker(answer, "affirm", slots))
        is None
    )


def test_a_phone_correction_changes_it() -> None:
    slots = {"case_category": "gift_not_mailed", "phone_number": "13612345678"}
    changes = corrections_at_confirmation(
        CollectingDispatcher(), tracker("电话错了 是13712345678", "inform", slots)
    )
    assert changes == {"phone_number": "13712345678", "case_confirmed": None}


SUMMARY = {
    "case_category": "unordered_device",
    "phone_number": "13612345678",
    "case_description": "收到一台没买的机器",
    "case_extra_info": "given",
    "tracking_number": "SF1234567890123",
    "device_sn": "88001234567",
    "brand": "拉卡拉",
    "amount": "99",
}


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        (
            "描述写错了，应该是：上周快递送来一台没申请过的电签机",
            [],
            {"case_description": "上周快递送来一台没申请过的电签机"},
        ),
        (
            "运单号应该是YT9876543210987",
            [{"entity": "tracking_number", "value": "YT9876543210987"}],
            {"tracking_number": "YT9876543210987"},
        ),
        ("序列号不对，是 8800765432", [], {"device_sn": "8800765432"}),
        ("品牌写错了，是嘉联支付", [], {"brand": "嘉联支付"}),
        ("金额不对 应该是199", [], {"amount": "199"}),
        # A line named without a value is asked for again (the extras with their question).
        ("描述写错了", [], {"case_description": None}),
        ("序列号写错了", [], {"device_sn": None, "case_extra_info": None}),
    ],
)
def test_any_line_of_the_summary_can_be_corrected(
    text: str, entities: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    changes = corrections_at_confirmation(
        dispatcher, tracker(text, "inform", SUMMARY, entities=entities)
    )
    assert changes == {**expected, "case_confirmed": None}
    said = [m["response"] for m in dispatcher.messages]
    asked_again = None in expected.values()
    assert said == ([] if asked_again else ["utter_case_field_corrected"])


def test_a_category_named_as_a_situation_is_not_a_description() -> None:
    changes = corrections_at_confirmation(
        CollectingDispatcher(), tracker("类别不对，应该是可疑电话的情况", "inform", SUMMARY)
    )
    assert changes == {"case_category": "suspicious_call", "case_confirmed": None}


def loop(name: str | None) -> dict[str, Any]:
    return {"event": "active_loop", "name": name}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


@pytest.mark.parametrize(
    ("events", "form"),
    [
        # The case form left for a scam warning, whose own questions then ended with the advice.
        (
            [
                loop("open_case_form"),
                loop(None),
                action("utter_scam_warning"),
                loop("suspicious_call_form"),
                loop(None),
                action("action_advise_suspicious_call"),
            ],
            "open_case_form",
        ),
        ([loop("open_case_form"), loop(None), action("action_submit_case")], None),
        ([loop("open_case_form"), loop(None), action("action_cancel_case_form")], None),
        (
            [loop("gift_not_mailed_form"), loop(None), action("action_handoff_to_human")],
            "gift_not_mailed_form",
        ),
        ([], None),
    ],
)
def test_the_interrupted_form(events: list[dict[str, Any]], form: str | None) -> None:
    assert interrupted_form(events) == form


async def test_go_on_resumes_it_or_says_there_is_nothing() -> None:
    dispatcher = CollectingDispatcher()
    events = [loop("open_case_form"), loop(None), action("action_handoff_to_human")]
    assert await ActionResumeForm().run(
        dispatcher, tracker("继续", "resume_form", events=events), DOMAIN
    ) == [FollowupAction("open_case_form")]
    nothing = CollectingDispatcher()
    assert await ActionResumeForm().run(nothing, tracker("继续", "resume_form"), DOMAIN) == []
    assert nothing.messages[0]["response"] == "utter_nothing_to_resume"


def test_not_bought_online_is_remembered() -> None:
    events = remember_facts(tracker("不是网上买的 业务员上门办的", "report_no_activation_refund"))
    assert {
        "event": "slot",
        "name": "known_bought_online",
        "value": False,
        "timestamp": None,
    } in events


@pytest.mark.parametrize(
    ("text", "intent", "diverted"),
    [
        ("麻烦帮我登个记，机器没激活押金退不回来", "report_no_activation_refund", True),
        ("我要登记工单 赠品没寄", "report_gift_not_mailed", True),
        ("机器没激活押金退不回来", "report_no_activation_refund", False),
        ("冒充售后的要验证码，帮我登记一下", "report_suspicious_call", False),  # steps first
    ],
)
async def test_a_case_request_read_as_a_situation_starts_the_case_form(
    text: str, intent: str, diverted: bool
) -> None:
    events = await ActionResetAdviceAnswers().run(
        CollectingDispatcher(), tracker(text, intent), DOMAIN
    )
    assert (FollowupAction("open_case_form") in events) is diverted


def test_a_case_form_started_inside_the_questions_takes_their_situation() -> None:
    # "我要退钱 马上" while the unordered-device questions were asked: no advice given yet.
    events = [
        {"event": "active_loop", "name": "unordered_device_form"},
        {"event": "user", "text": "我要退钱 马上"},
        {"event": "active_loop", "name": None},
        {"event": "active_loop", "name": "open_case_form"},
    ]
    assert situation_interrupted_by_case_form(
        tracker("我要退钱 马上", "open_case", events=events)
    ) == ("unordered_device")


def test_a_case_form_with_no_situation_before_it_has_no_category() -> None:
    events = [{"event": "active_loop", "name": "open_case_form"}]
    assert (
        situation_interrupted_by_case_form(tracker("登记工单", "open_case", events=events)) is None
    )

"""Two questions in one message: found, remembered, answered right after the first answer."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionAnswerFaq, ActionResetAdviceAnswers, advise_action
from actions.every_message import ActionValidateSlotMappings
from actions.two_questions import (
    SECOND_QUESTION_SLOT,
    answer_second_question,
    faq_asked_first,
    second_question,
)
from pos_assistant.knowledge import get_knowledge_base
from tests.unit.test_conversation_actions import DOMAIN


@pytest.mark.parametrize(
    ("text", "intent", "second"),
    [
        (
            "有人打电话说是POS售后要我验证码，还有我那个押金怎么退",
            "report_suspicious_call",
            "report_no_activation_refund",
        ),
        (
            "押金怎么退？另外你们客服电话多少",
            "report_no_activation_refund",
            "follow_up:phone_number",
        ),
        ("办个pos机多少钱，顺便问下怎么激活", "ask_fees", "ask_activation"),
        ("赠品一直没寄。还有我的工单进度怎么样了", "report_gift_not_mailed", "check_case_status"),
        # The scam is never the second answer: it is always the first (SafetyGuard).
        ("押金怎么退，还有人打电话要验证码", "report_no_activation_refund", None),
        # One sentence is one question, even with two topics' words in it.
        ("卖家说退押金得先交50手续费", "report_suspicious_call", None),
        ("我没买过POS机却收到一台", "report_unordered_device", None),
        # The part the intent answers need not name its topic in the table's words.
        (
            "办机说好送的电饭煲一直没寄来。还有你们客服电话多少",
            "report_gift_not_mailed",
            "follow_up:phone_number",
        ),
        # No answer for the message: nothing to add.
        ("押金怎么退？另外客服电话多少", "out_of_scope", None),
        # An answer for the whole message whose parts it does not name: the first part led it,
        # a later part is the second question (never the scam, never the first part's topic).
        ("押金怎么退？另外你们客服电话多少", "ask_fees", "follow_up:phone_number"),
        ("押金怎么退？还有人打电话要验证码", "ask_fees", None),
        ("押金怎么退？另外押金多久能到账", "ask_apply", None),
        ("/report_no_activation_refund", "report_no_activation_refund", None),
    ],
)
def test_the_second_question_is_found(text: str, intent: str, second: str | None) -> None:
    assert second_question(text, intent) == second


def tracker(
    text: str, intent: str, slots: dict[str, Any] | None = None, guard: bool = False
) -> Tracker:
    message: dict[str, Any] = {"text": text, "intent": {"name": intent}, "entities": []}
    if guard:
        message["safety_guard"] = {"triggered": True}
    return Tracker.from_dict(
        {
            "sender_id": "two-questions",
            "slots": dict(slots or {}),
            "latest_message": message,
            "events": [{"event": "user", "text": text, "parse_data": message}],
            "paused": False,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def test_every_message_remembers_it_and_the_situation_start_names_both() -> None:
    text = "押金怎么退？另外你们客服电话多少"
    dispatcher = CollectingDispatcher()
    events = await ActionValidateSlotMappings().run(
        dispatcher, tracker(text, "report_no_activation_refund"), DOMAIN
    )
    assert SlotSet(SECOND_QUESTION_SLOT, "follow_up:phone_number") in events
    assert dispatcher.messages == []
    starting = CollectingDispatcher()
    slots = {SECOND_QUESTION_SLOT: "follow_up:phone_number"}
    await ActionResetAdviceAnswers().run(
        starting, tracker(text, "report_no_activation_refund", slots), DOMAIN
    )
    [said] = starting.messages
    assert said["response"] == "utter_two_questions_one_by_one"
    assert (said["first"], said["second"]) == ("押金怎么退", "该打哪个电话")
    # A second question remembered from an earlier message is not named again.
    later = CollectingDispatcher()
    await ActionResetAdviceAnswers().run(
        later, tracker("押金怎么退", "report_no_activation_refund", slots), DOMAIN
    )
    assert later.messages == []


async def test_nothing_is_said_before_a_scam_warning() -> None:
    dispatcher = CollectingDispatcher()
    text = "有人打电话说是POS售后要我验证码，还有我那个押金怎么退"
    events = await ActionValidateSlotMappings().run(
        dispatcher, tracker(text, "report_suspicious_call", guard=True), DOMAIN
    )
    assert SlotSet(SECOND_QUESTION_SLOT, "report_no_activation_refund") in events
    assert dispatcher.messages == []  # utter_scam_warning must be the first thing said


async def test_an_old_second_question_is_forgotten_when_nothing_is_going_on() -> None:
    events = await ActionValidateSlotMappings().run(
        CollectingDispatcher(),
        tracker("你好", "greet", {SECOND_QUESTION_SLOT: "ask_fees"}),
        DOMAIN,
    )
    assert SlotSet(SECOND_QUESTION_SLOT, None) in events


async def test_after_the_scam_advice_the_deposit_questions_start() -> None:
    dispatcher = CollectingDispatcher()
    slots = {SECOND_QUESTION_SLOT: "report_no_activation_refund", "secret_already_given": False}
    events = await advise_action("suspicious_call").run(
        dispatcher, tracker("……", "report_suspicious_call", slots), DOMAIN
    )
    texts = [m.get("text") or m.get("response") for m in dispatcher.messages]
    assert texts[-1] == "utter_second_question_intro"
    assert dispatcher.messages[-1]["label"] == "押金怎么退"
    assert "可疑来电" in texts[0]  # the first answer came first
    assert events[-1] == FollowupAction("no_activation_refund_form")
    assert SlotSet(SECOND_QUESTION_SLOT, None) in events
    refund_slots = get_knowledge_base().situations["no_activation_refund"].question_slots
    assert all(SlotSet(slot, None) in events for slot in refund_slots)


async def test_after_an_faq_a_follow_up_is_answered_in_the_same_reply() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(
        dispatcher,
        tracker("……", "ask_fees", {SECOND_QUESTION_SLOT: "follow_up:phone_number"}),
        DOMAIN,
    )
    assert events == [SlotSet(SECOND_QUESTION_SLOT, None)]
    intro = [m for m in dispatcher.messages if m.get("response") == "utter_second_question_intro"]
    assert intro and intro[0]["label"] == "该打哪个电话"
    assert "官网或官方App" in dispatcher.messages[-1]["text"]


def test_without_a_second_question_nothing_is_added() -> None:
    dispatcher = CollectingDispatcher()
    assert answer_second_question(dispatcher, tracker("……", "ask_fees")) == []
    assert dispatcher.messages == []


def test_every_label_is_filled() -> None:
    from actions.two_questions import load_table

    assert all(topic.label for topic in load_table().topics)


@pytest.mark.parametrize(
    ("text", "intent", "first"),
    [
        ("办一台pos机要多少钱，顺便问下怎么激活", "ask_activation", "ask_fees"),
        ("办一台pos机要多少钱，顺便问下怎么激活", "ask_fees", None),  # already in order
        ("怎么激活，还有办一台多少钱", "ask_activation", None),
        ("押金怎么退？另外怎么激活", "ask_activation", None),  # a situation first: its questions
    ],
)
def test_the_faq_asked_first_is_answered_first(text: str, intent: str, first: str | None) -> None:
    assert faq_asked_first(text, intent) == first

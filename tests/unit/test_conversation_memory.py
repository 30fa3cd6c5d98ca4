"""Conversation memory: facts from any turn, never asked again, corrected only by the user."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionResetAdviceAnswers, advise_action
from actions.advice_forms import situation_form
from actions.conversation import ActionAcknowledgeYesNo, ActionOutOfScope
from actions.every_message import ActionValidateSlotMappings
from actions.memory import (
    read_deposit,
    read_step_done,
    remember_facts,
    victim_reminder_response,
)
from actions.tone import needs_word_for_anger
from tests.unit.test_advice_actions import DOMAIN
from tests.unit.trackers import build_tracker, parse_data, user_event


def tracker(
    text: str,
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    entities: list[dict] | None = None,
    guard: bool = False,
) -> Tracker:
    extras = {"safety_guard": {"triggered": True, "topics": ["verification_code"]}} if guard else {}
    message = parse_data(text, intent, confidence=0.9, entities=entities, **extras)
    return build_tracker(text, slots=slots, message=message, active_loop=active_loop)


def slot_values(events: list) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("交了99块押金，机器没激活想退", True),
        ("押金退不了怎么办", True),
        ("不对，我没交押金", False),
        ("我没付押金，机器是免费送的", False),
        ("押金能不能不交", None),  # a question about fees says nothing about this user
        ("怎么寄回去", None),
    ],
)
def test_deposit_read_from_any_message(text: str, expected: bool | None) -> None:
    assert read_deposit(text) is expected


def test_deposit_and_amount_remembered_and_corrected() -> None:
    amount = [{"entity": "amount", "value": "99元"}]
    first = slot_values(remember_facts(tracker("交了99块押金，一直没激活", entities=amount)))
    assert first == {"known_deposit_paid": True, "known_deposit_amount": "99元"}
    corrected = slot_values(
        remember_facts(tracker("不对，我没交押金", slots={"known_deposit_paid": True, **first}))
    )
    assert corrected == {"known_deposit_paid": False, "known_deposit_amount": None}


def test_a_victim_is_remembered_only_in_a_scam_story() -> None:
    scam = tracker("他让我报验证码，我已经报给他了", intent="report_suspicious_call", guard=True)
    assert slot_values(remember_facts(scam)) == {"known_victim": True}
    # "交了" about a deposit, outside a scam story, makes nobody a victim.
    assert "known_victim" not in slot_values(remember_facts(tracker("我交了200")))


@pytest.mark.parametrize(
    "later",
    ["挂了，现在打110，然后呢", "没有了", "我没再给他什么", "谢谢", "/deny"],
)
def test_the_victim_state_never_reverts_without_an_explicit_correction(later: str) -> None:
    events = remember_facts(tracker(later, slots={"known_victim": True}))
    assert "known_victim" not in slot_values(events)


def test_an_explicit_correction_takes_the_victim_state_back() -> None:
    events = remember_facts(tracker("不对，我说错了，验证码我没给他", slots={"known_victim": True}))
    assert slot_values(events) == {"known_victim": False}


def test_the_scam_form_answered_yes_makes_a_victim() -> None:
    answered = tracker(
        "/affirm",
        intent="affirm",
        slots={"secret_already_given": True, "requested_slot": "secret_already_given"},
        active_loop="suspicious_call_form",
    )
    assert slot_values(remember_facts(answered)) == {"known_victim": True}


async def test_a_later_answer_to_a_victim_starts_with_110_and_the_freeze() -> None:
    dispatcher = CollectingDispatcher()
    later = tracker("挂了，现在打110，然后呢", intent="inform", slots={"known_victim": True})
    await ActionValidateSlotMappings().run(dispatcher, later, DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_victim_reminder"]
    reminder = DOMAIN["responses"]["utter_victim_reminder"][0]["text"]
    assert reminder.index("屏幕共享") < reminder.index("110") < reminder.index("冻结银行卡")


async def test_no_victim_reminder_for_others_or_when_the_scam_advice_follows() -> None:
    for case in (
        tracker("押金怎么退", intent="report_no_activation_refund"),
        tracker("又打来了", intent="report_suspicious_call", slots={"known_victim": True}),
        tracker("谢谢", intent="thank", slots={"known_victim": True}),
    ):
        dispatcher = CollectingDispatcher()
        await ActionValidateSlotMappings().run(dispatcher, case, DOMAIN)
        assert "utter_victim_reminder" not in [m.get("response") for m in dispatcher.messages]


async def test_the_forms_take_remembered_answers_and_never_ask_again() -> None:
    refund = tracker(
        "机器没激活，想退",
        slots={"known_deposit_paid": True},
        active_loop="no_activation_refund_form",
    )
    events = await situation_form("no_activation_refund").get_extraction_events(
        CollectingDispatcher(), refund, DOMAIN
    )
    assert SlotSet("paid_deposit_or_fee", True) in events
    # A remembered victim: "挂了" reads as "nothing given", the memory keeps the victim steps.
    victim = tracker(
        "挂了，现在打110，然后呢",
        slots={"known_victim": True},
        active_loop="suspicious_call_form",
    )
    events = await situation_form("suspicious_call").get_extraction_events(
        CollectingDispatcher(), victim, DOMAIN
    )
    assert SlotSet("secret_already_given", True) in events
    validated = tracker(
        "挂了，现在打110，然后呢",
        slots={"known_victim": True, "secret_already_given": True},
        active_loop="suspicious_call_form",
    )
    validated.slots_to_validate = lambda: {"secret_already_given": True}  # type: ignore[method-assign]
    events = await situation_form("suspicious_call").get_validation_events(
        CollectingDispatcher(), validated, DOMAIN
    )
    assert events == [SlotSet("secret_already_given", True)]


async def test_the_reset_between_situations_leaves_the_memory_alone() -> None:
    slots = {"known_victim": True, "known_deposit_paid": True, "secret_already_given": True}
    events = await ActionResetAdviceAnswers().run(
        CollectingDispatcher(), tracker("", slots=slots), DOMAIN
    )
    assert {e["name"] for e in events} == {"secret_already_given"}


async def test_the_same_article_is_not_sent_twice() -> None:
    action = advise_action("suspicious_call")
    first = CollectingDispatcher()
    events = await action.run(first, tracker("", slots={"secret_already_given": False}), DOMAIN)
    advised = slot_values(events)["advised_answers"]
    assert len(first.messages) == 2
    again = CollectingDispatcher()
    slots = {"secret_already_given": False, "advised_answers": advised}
    await action.run(again, tracker("", slots=slots), DOMAIN)
    assert [m["response"] for m in again.messages] == ["utter_advice_sent_before"]
    assert "要再看一遍完整步骤吗" in DOMAIN["responses"]["utter_advice_sent_before"][0]["text"]
    # A victim's steps are short and always sent in full.
    victim = CollectingDispatcher()
    key = advised[0].replace("False", "True")
    slots = {"secret_already_given": True, "advised_answers": [key]}
    await action.run(victim, tracker("", slots=slots), DOMAIN)
    assert len(victim.messages) == 2 and "110" in victim.messages[0]["text"]
    # ... unless the repeated message asks what to do next: that question is answered instead,
    # after 110 and the card freeze (the reminder).
    asked = CollectingDispatcher()
    slots = {**slots, "situation": "suspicious_call"}
    await action.run(asked, tracker("卡已经冻结了 然后呢", slots=slots), DOMAIN)
    assert asked.messages[0]["response"] == "utter_victim_reminder"
    assert len(asked.messages) == 2 and asked.messages[1]["text"].startswith("接下来")


async def test_a_victim_who_just_read_the_same_steps_gets_the_reminder_not_the_wall() -> None:
    action = advise_action("suspicious_call")
    shown = CollectingDispatcher()
    await action.run(shown, tracker("", slots={"secret_already_given": True}), DOMAIN)
    steps = shown.messages[0]["text"]
    # The same steps went out a turn ago (for the question not yet answered); now "我已经把验证码
    # 告诉他了" answers it: the reminder, not the same bubbles again.
    told = build_tracker(
        "我已经把验证码告诉他了",
        slots={"secret_already_given": True},
        message=parse_data("我已经把验证码告诉他了", "report_suspicious_call", confidence=0.9),
        events=[{"event": "bot", "text": steps}],
    )
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, told, DOMAIN)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_victim_reminder"]
    assert len(slot_values(events)["advised_answers"]) == 1  # the answers are now advised


async def test_the_same_situation_told_again_keeps_its_answers() -> None:
    slots = {
        "situation": "no_activation_refund",
        "bought_online_within_7_days": False,
        "paid_deposit_or_fee": True,
        "deposit_paid": True,
    }
    again = tracker("押金还是没退", intent="report_no_activation_refund", slots=slots)
    events = await ActionResetAdviceAnswers().run(CollectingDispatcher(), again, DOMAIN)
    assert {e["name"] for e in events} == {"deposit_paid"}  # another situation's answer only
    other = tracker("又有人打电话要验证码", intent="report_suspicious_call", slots=slots)
    events = await ActionResetAdviceAnswers().run(CollectingDispatcher(), other, DOMAIN)
    assert {e["name"] for e in events} == {
        "deposit_paid",
        "bought_online_within_7_days",
        "paid_deposit_or_fee",
    }


def test_cantonese_and_traditional_are_read_like_mandarin() -> None:
    said = tracker(
        "有個自稱POS售後嘅人打嚟，我俾咗驗證碼佢", intent="report_suspicious_call", guard=True
    )
    assert slot_values(remember_facts(said)) == {"known_victim": True}
    assert slot_values(remember_facts(tracker("佢哋唔肯退按金"))) == {"known_deposit_paid": True}


async def test_a_correction_is_acknowledged_in_words() -> None:
    dispatcher = CollectingDispatcher()
    said = tracker("不对，我没交押金", intent="deny", slots={"known_deposit_paid": True})
    await ActionValidateSlotMappings().run(dispatcher, said, DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_noted_no_deposit",
        "utter_noted_see_adjusted_steps",  # nothing was advised: how to see steps for it
    ]
    dispatcher = CollectingDispatcher()
    plain = tracker("我没交押金", intent="deny", slots={"known_deposit_paid": False})
    await ActionValidateSlotMappings().run(dispatcher, plain, DOMAIN)
    assert dispatcher.messages == []  # nothing changed, nothing to acknowledge


async def test_an_article_asked_again_with_a_question_answers_the_question() -> None:
    first = CollectingDispatcher()
    slots = {"deposit_paid": False}
    events = await advise_action("refuse_delivery").run(first, tracker("", slots=slots), DOMAIN)
    advised = slot_values(events)["advised_answers"]
    again = CollectingDispatcher()
    slots = {**slots, "advised_answers": advised, "situation": "refuse_delivery"}
    asking = tracker("已经签收了怎么寄回去", slots=slots)
    await advise_action("refuse_delivery").run(again, asking, DOMAIN)
    assert len(again.messages) == 1 and "七天无理由" in again.messages[0]["text"]


def test_money_sent_in_a_refund_scam_makes_a_victim_although_a_deposit_is_named() -> None:
    said = tracker(
        "说退押金要先交手续费，我已经转了80给他", intent="report_suspicious_call", guard=True
    )
    assert slot_values(remember_facts(said)) == {"known_deposit_paid": True, "known_victim": True}


async def test_a_correction_of_where_it_was_bought_is_not_a_plain_no() -> None:
    """ "不对 我不是网购" right after the steps: noted, then the steps without the 7-day return."""
    text = "不对 我不是网购 当时是推销员上门给办的"
    slots = {
        "situation": "no_activation_refund",
        "bought_online_within_7_days": True,
        "paid_deposit_or_fee": True,
    }
    said = tracker(text, intent="deny", slots=slots)
    dispatcher = CollectingDispatcher()
    events = await ActionValidateSlotMappings().run(dispatcher, said, DOMAIN)
    assert slot_values(events) == {"known_bought_online": False}
    assert [m["response"] for m in dispatcher.messages] == ["utter_noted_not_online"]

    message = parse_data(text, "deny", confidence=0.4)
    corrected = build_tracker(
        text,
        slots={**slots, "known_bought_online": False},
        message=message,
        events=[user_event(text, message), *events],
    )
    dispatcher = CollectingDispatcher()
    events = await ActionAcknowledgeYesNo().run(dispatcher, corrected, DOMAIN)
    replies = "\n".join(m.get("text") or m.get("response") or "" for m in dispatcher.messages)
    assert "未激活的POS机退不了" in replies, replies
    assert "七天无理由" not in replies and "utter_ack_deny" not in replies
    assert slot_values(events)["advised_answers"][-1].startswith("no_activation_refund:")

    plain = build_tracker("不是", slots=slots, message=parse_data("不是", "deny"))
    dispatcher = CollectingDispatcher()
    await ActionAcknowledgeYesNo().run(dispatcher, plain, DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ack_deny"]


async def test_the_situation_advised_named_again_is_not_out_of_scope() -> None:
    """ "押金的事怎么办啊" read as out of scope after the deposit steps: they are offered again."""
    slots = {"situation": "no_activation_refund"}
    asked = build_tracker("押金的事怎么办啊", "out_of_scope", slots=slots)
    dispatcher = CollectingDispatcher()
    await ActionOutOfScope().run(dispatcher, asked, DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_advice_sent_before"]
    other = build_tracker("赠品的事怎么办啊", "out_of_scope", slots=slots)
    dispatcher = CollectingDispatcher()
    await ActionOutOfScope().run(dispatcher, other, DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"]


def test_the_victim_reminder_is_not_the_same_line_every_time() -> None:
    first = build_tracker("然后呢", slots={"known_victim": True})
    assert victim_reminder_response(first) == "utter_victim_reminder"
    reminded = {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_victim_reminder"}}
    later = build_tracker(
        "然后呢",
        slots={"known_victim": True},
        events=[reminded, user_event("然后呢", parse_data("然后呢", "inform"))],
    )
    assert victim_reminder_response(later) == "utter_victim_reminder_again"
    texts = DOMAIN["responses"]
    again = texts["utter_victim_reminder_again"][0]["text"]
    assert "110" in again and "冻结银行卡" in again and again.startswith("【先做这几件事】")
    assert again != texts["utter_victim_reminder"][0]["text"]


def test_an_angry_message_that_asks_something_gets_a_word_first() -> None:
    assert needs_word_for_anger(build_tracker("你们这什么破助手！！押金到底退不退"))
    assert not needs_word_for_anger(build_tracker("押金怎么退"))
    assert needs_word_for_anger(build_tracker("我靠 你们这破pos机押金299到现在都不退 是不是骗钱啊"))
    assert needs_word_for_anger(build_tracker("你们就是骗子 我要投诉"))
    # A victim telling of the scammer is not angry at us: no apology for "那个骗子".
    assert not needs_word_for_anger(build_tracker("那个骗子又发短信让我点链接"))
    assert not needs_word_for_anger(build_tracker("😡😡😡"))  # no words: its own gentle question
    frustrated = parse_data("破助手 听不懂人话", "request_human", frustration_detected=True)
    assert not needs_word_for_anger(build_tracker("破助手 听不懂人话", message=frustrated))


@pytest.mark.parametrize(
    ("text", "confidence", "form"),
    [
        ("部机冇开过，佢哋唔肯退按金", 0.39, "no_activation_refund_form"),
        ("没有", 0.39, None),  # a no word is a no
        ("不对，我没交押金", 0.39, None),  # a correction, not a report
        ("部机冇开过，佢哋唔肯退按金", 0.9, None),  # a sure "no" is left alone
        ("好的谢谢", 0.4, None),  # names no situation
    ],
)
async def test_a_situation_read_unsurely_as_a_no_starts_its_questions(
    text: str, confidence: float, form: str | None
) -> None:
    said = build_tracker(text, message=parse_data(text, "deny", confidence=confidence))
    dispatcher = CollectingDispatcher()
    events = await ActionAcknowledgeYesNo().run(dispatcher, said, DOMAIN)
    followed = [e["name"] for e in events if e.get("event") == "followup"]
    assert followed == ([form] if form else [])
    assert bool(dispatcher.messages) is (form is None)


@pytest.mark.parametrize(
    ("text", "police", "card_frozen"),
    [
        ("已经报警了", True, None),
        ("报完警了，卡也冻结了", True, True),
        ("我打了110，银行卡已经挂失", True, True),
        ("我要报警了", False, None),  # about to: not done
        ("还没报警，卡冻结了", False, True),
        ("要不要报警？", False, None),
        ("他说我的卡已经冻结了，要交解冻费", None, None),  # the caller's claim, not the user's step
        ("我的卡被冻结了", None, None),
        ("卡冻结不了怎么办", None, False),
        ("I called the police and the card is frozen", True, True),
        ("挂了，现在打110，然后呢", None, None),
    ],
)
def test_the_victim_steps_taken_are_read(
    text: str, police: bool | None, card_frozen: bool | None
) -> None:
    assert read_step_done(text, "police") is police
    assert read_step_done(text, "card_frozen") is card_frozen


def _victim_turn(text: str, bot_responses: tuple[str, ...] = (), **slots: Any) -> Tracker:
    sent = [
        {"event": "bot", "text": "…", "metadata": {"utter_action": name}} for name in bot_responses
    ]
    return build_tracker(
        text,
        slots={"known_victim": True, **slots},
        events=[*sent, user_event(text, parse_data(text, "inform"))],
    )


async def reminders_for(turn: Tracker) -> list[str]:
    dispatcher = CollectingDispatcher()
    await ActionValidateSlotMappings().run(dispatcher, turn, DOMAIN)
    return [m["response"] for m in dispatcher.messages if "reminder" in m.get("response", "")]


async def test_a_victim_who_called_110_is_not_told_to_call_110() -> None:
    after_police = await reminders_for(_victim_turn("已经报警了", ("utter_victim_reminder",)))
    assert after_police == ["utter_victim_reminder_police_done"]
    text = DOMAIN["responses"]["utter_victim_reminder_police_done"][0]["text"]
    assert "110" not in text and "冻结银行卡" in text and "屏幕共享" in text
    after_card = await reminders_for(
        _victim_turn("卡也冻结了", known_police_reported=True, known_card_frozen=None)
    )
    assert after_card == ["utter_victim_reminder_steps_done"]
    card_only = DOMAIN["responses"]["utter_victim_reminder_card_done"][0]["text"]
    assert "110" in card_only and "冻结银行卡" not in card_only


async def test_once_both_steps_are_taken_and_acknowledged_the_reminder_stops() -> None:
    done = {"known_police_reported": True, "known_card_frozen": True}
    acknowledged = _victim_turn("还要做什么", ("utter_victim_reminder_steps_done",), **done)
    assert await reminders_for(acknowledged) == []
    # "不对，还没报警": the police step is back in the reminder.
    taken_back = _victim_turn("不对，还没报警", ("utter_victim_reminder_steps_done",), **done)
    assert await reminders_for(taken_back) == ["utter_victim_reminder_card_done"]


async def test_a_victim_learnt_from_a_message_no_scam_advice_answers_gets_the_steps() -> None:
    # "他还让我转了2000" inside the scam story, read as case info: no advice follows it, so the
    # reminder with 110 and the freeze comes first.
    turn = tracker("他还让我转了2000", intent="inform", slots={"situation": "suspicious_call"})
    assert await reminders_for(turn) == ["utter_victim_reminder"]
    # With the safety notice on the same message, that notice has the steps.
    guarded = tracker(
        "他还让我转了2000", intent="inform", slots={"situation": "suspicious_call"}, guard=True
    )
    assert await reminders_for(guarded) == []

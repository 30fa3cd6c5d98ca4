"""Case and handoff actions with Tracker.from_dict + CollectingDispatcher on a real SQLite store.

The domain is the real domain.yml, so a response or slot that drifts away breaks these tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.case_forms import ValidateCaseLookupForm, ValidateOpenCaseForm
from actions.cases import (
    ActionAddCaseInfo,
    ActionAskCaseConfirmed,
    ActionReportCaseStatus,
    ActionSubmitCase,
)
from actions.handoff import ActionHandoffToHuman
from actions.tracker_reading import client_address_of
from pos_assistant.cases import provider
from pos_assistant.cases.errors import StoreUnavailable
from pos_assistant.cases.records import NewCase
from pos_assistant.cases.store import CaseStore
from pos_assistant.rate_limits import AbuseLimits
from tests.paths import PROJECT_ROOT
from tests.unit.trackers import build_tracker, parse_data, user_event

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
# The handoff message depends on the hour (tests/unit/test_handoff_return.py fixes the clock).
STARTED, STARTED_AFTER_HOURS = ["utter_handoff_started"], ["utter_handoff_started_after_hours"]
FORM_STARTED = {"event": "active_loop", "name": "open_case_form", "timestamp": 1764150000.0}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CaseStore]:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    monkeypatch.setattr(provider, "get_case_store", lambda: store)
    yield store
    store.dispose()


@pytest.fixture
def broken_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CaseStore:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = CaseStore(f"sqlite:///{blocker / 'cases.db'}")
    monkeypatch.setattr(provider, "get_case_store", lambda: store)
    return store


def make_tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    sender: str = "user-a",
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    return build_tracker(
        text,
        slots=slots,
        message=parse_data(text, intent, entities=entities),
        # rasa_sdk reads the channel from the latest user event; slots set after it are the
        # ones a form validates.
        events=[user_event(text, input_channel="rest"), *(events or [])],
        sender=sender,
        active_loop=active_loop,
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


def assert_known_responses(dispatcher: CollectingDispatcher) -> None:
    for name in responses(dispatcher):
        assert name in DOMAIN["responses"], f"{name} missing from domain.yml"


async def validate(form: Any, tracker: Tracker) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await form.run(dispatcher, tracker, DOMAIN)
    assert_known_responses(dispatcher)
    return {
        event["name"]: event["value"] for event in events if event["event"] == "slot"
    }, dispatcher


def open_case_slots(**overrides: Any) -> dict[str, Any]:
    return {
        "case_category": "gift_not_mailed",
        "phone_number": "13812345678",
        "case_description": "办机时承诺的赠品一直没寄",
        "case_extra_info": "given",
        "tracking_number": "SF1234567890123",
        "case_confirmed": True,
        **overrides,
    }


# ---------------------------------------------------------------- opening a case


async def test_the_situation_from_the_advice_fills_the_category(store: CaseStore) -> None:
    slots, _ = await validate(
        ValidateOpenCaseForm(),
        make_tracker({"situation": "unordered_device"}, active_loop="open_case_form"),
    )
    assert slots["case_category"] == "unordered_device"


async def test_a_category_quick_reply_is_understood(store: CaseStore) -> None:
    tracker = make_tracker(
        {"requested_slot": "case_category"},
        text="办机赠品没寄",
        intent="report_gift_not_mailed",
        active_loop="open_case_form",
    )
    slots, _ = await validate(ValidateOpenCaseForm(), tracker)
    assert slots["case_category"] == "gift_not_mailed"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("138 1234 5678", "13812345678"), ("我的手机是+86 139-0000-1111", "13900001111")],
)
async def test_phone_numbers_are_normalized(store: CaseStore, typed: str, expected: str) -> None:
    tracker = make_tracker(
        {"requested_slot": "phone_number"},
        events=[{"event": "slot", "name": "phone_number", "value": typed}],
        active_loop="open_case_form",
    )
    tracker.slots["phone_number"] = typed
    slots, dispatcher = await validate(ValidateOpenCaseForm(), tracker)
    assert slots["phone_number"] == expected
    assert dispatcher.messages == []


async def test_a_wrong_phone_is_reasked_then_explained_with_a_way_out(store: CaseStore) -> None:
    form = ValidateOpenCaseForm()
    first = make_tracker(
        {"requested_slot": "phone_number", "phone_number": "12345"},
        events=[{"event": "slot", "name": "phone_number", "value": "12345"}],
    )
    slots, dispatcher = await validate(form, first)
    assert slots["phone_number"] is None
    assert responses(dispatcher) == ["utter_case_phone_invalid"]
    second = make_tracker(
        {
            "requested_slot": "phone_number",
            "phone_number": "abc",
            "case_form_misses": slots["case_form_misses"],
        },
        events=[{"event": "slot", "name": "phone_number", "value": "abc"}],
    )
    slots, dispatcher = await validate(form, second)
    assert responses(dispatcher) == ["utter_case_phone_invalid", "utter_case_form_offer_human"]
    assert slots["case_form_misses"] == {"phone_number": 2}


async def test_extra_info_accepts_skip_and_entities_and_reasks_otherwise(store: CaseStore) -> None:
    form = ValidateOpenCaseForm()

    def tracker_for(text: str, entities: list[dict[str, Any]] | None = None) -> Tracker:
        return make_tracker(
            {"requested_slot": "case_extra_info", "case_extra_info": text},
            text=text,
            entities=entities,
            events=[{"event": "slot", "name": "case_extra_info", "value": text}],
        )

    slots, _ = await validate(form, tracker_for("跳过"))
    assert slots["case_extra_info"] == "skipped"
    slots, _ = await validate(
        form,
        tracker_for(
            "单号SF1234567890123",
            [{"entity": "tracking_number", "value": "SF1234567890123"}],
        ),
    )
    assert (slots["case_extra_info"], slots["tracking_number"]) == ("given", "SF1234567890123")
    slots, dispatcher = await validate(form, tracker_for("嗯嗯"))
    assert slots["case_extra_info"] is None
    assert responses(dispatcher) == ["utter_case_extra_info_invalid"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("没问题", True), ("OK", True), ("确认！", True), ("先不", False), ("取消。", False)],
)
async def test_typed_confirmation_answers_count(typed: str, expected: bool) -> None:
    tracker = make_tracker(
        {"requested_slot": "case_confirmed", "case_confirmed": typed},
        text=typed,
        events=[{"event": "slot", "name": "case_confirmed", "value": typed}],
    )
    slots, _ = await validate(ValidateOpenCaseForm(), tracker)
    assert slots["case_confirmed"] is expected


async def test_the_summary_masks_the_phone() -> None:
    dispatcher = CollectingDispatcher()
    ActionAskCaseConfirmed().run(dispatcher, make_tracker(open_case_slots()), DOMAIN)
    [message] = dispatcher.messages
    assert message["response"] == "utter_case_summary"
    assert message["phone"] == "138****5678"
    assert "SF1234567890123" in message["extras"]
    assert "13812345678" not in str(message)


async def test_confirming_writes_one_case_even_when_confirmed_twice(store: CaseStore) -> None:
    tracker = make_tracker(open_case_slots(), events=[FORM_STARTED])
    first, second = CollectingDispatcher(), CollectingDispatcher()
    events = ActionSubmitCase().run(first, tracker, DOMAIN)
    ActionSubmitCase().run(second, tracker, DOMAIN)
    assert_known_responses(first)
    number = first.messages[0]["case_number"]
    assert second.messages[0]["case_number"] == number
    assert first.messages[0]["phone"] == "138****5678"
    assert len(store.list_cases()) == 1
    case = store.get_case(number)
    assert (case.category, case.tracking_number, case.channel) == (
        "gift_not_mailed",
        "SF1234567890123",
        "rest",
    )
    assert {"event": "slot", "name": "case_number", "value": number, "timestamp": None} in events


async def test_declining_writes_nothing(store: CaseStore) -> None:
    dispatcher = CollectingDispatcher()
    ActionSubmitCase().run(dispatcher, make_tracker(open_case_slots(case_confirmed=False)), DOMAIN)
    assert responses(dispatcher) == ["utter_case_not_submitted"]
    assert store.list_cases() == []


async def test_a_database_failure_apologises_and_keeps_what_the_user_typed(
    broken_store: CaseStore,
) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionSubmitCase().run(dispatcher, make_tracker(open_case_slots()), DOMAIN)
    assert responses(dispatcher) == ["utter_case_store_unavailable"]
    buttons = DOMAIN["responses"]["utter_case_store_unavailable"][0]["buttons"]
    assert {"title": "转人工", "payload": "/request_human"} in buttons
    # Only the confirmation is cleared: a retry shows the summary again with everything kept.
    assert [(e["name"], e["value"]) for e in events] == [("case_confirmed", None)]


# ---------------------------------------------------------------- looking a case up


def open_case(store: CaseStore, sender: str = "wx:o-user-a") -> str:
    return store.create_case(
        NewCase(
            category="gift_not_mailed",
            contact_phone="13812345678",
            description="赠品没寄",
            channel="wechat",
            channel_user_id=sender,
            idempotency_key=f"{sender}:run",
        )
    ).case_number


def lookup_tracker(sender: str, **slots: Any) -> Tracker:
    events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
    return make_tracker(slots, sender=sender, events=events, active_loop="case_lookup_form")


def report(sender: str, **slots: Any) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    ActionReportCaseStatus().run(dispatcher, make_tracker(slots, sender=sender), DOMAIN)
    assert_known_responses(dispatcher)
    return dispatcher


async def test_the_opener_is_verified_without_a_question(store: CaseStore) -> None:
    number = open_case(store, sender="wx:o-opener")
    slots, _ = await validate(
        ValidateCaseLookupForm(),
        lookup_tracker("wx:o-opener", case_number=number, requested_slot="case_number"),
    )
    assert (slots["case_lookup_outcome"], slots["case_verified_number"]) == ("verified", number)
    assert slots["requested_slot"] is None
    [message] = report("wx:o-opener", **slots).messages
    assert message["response"] == "utter_case_status" and message["case_number"] == number


@pytest.mark.parametrize("opener", ["rest:user-a", "user-a", "rest:wx:o-user-a"])
async def test_an_opener_over_rest_or_without_a_channel_still_needs_the_last4(
    store: CaseStore, opener: str
) -> None:
    # A REST sender is whatever the caller typed: it never proves who opened the case.
    number = open_case(store, sender=opener)
    slots, _ = await validate(
        ValidateCaseLookupForm(),
        lookup_tracker(f"{opener}-later", case_number=number, requested_slot="case_number"),
    )
    assert "case_lookup_outcome" not in slots  # so the form asks for the last four digits
    slots, _ = await validate(
        ValidateCaseLookupForm(),
        lookup_tracker(opener, case_number=number, requested_slot="case_number"),
    )
    # Not even the REST conversation that opened it skips the question.
    assert "case_lookup_outcome" not in slots


async def test_forged_verified_slots_return_no_case_data(store: CaseStore) -> None:
    number = open_case(store)
    dispatcher = report(
        "rest:attacker", case_lookup_outcome="verified", case_verified_number=number
    )
    assert responses(dispatcher) == ["utter_case_lookup_verify_again"]
    assert number not in str(dispatcher.messages) and "138" not in str(dispatcher.messages)


async def test_a_stranger_is_asked_for_the_last4_and_then_sees_the_status(
    store: CaseStore,
) -> None:
    number = open_case(store)
    store.change_status(number, "in_progress", note="已联系服务商")
    form = ValidateCaseLookupForm()
    slots, _ = await validate(
        form, lookup_tracker("stranger", case_number=number.lower(), requested_slot="case_number")
    )
    assert slots["case_number"] == number
    assert "case_lookup_outcome" not in slots  # so the form asks for the last four digits
    slots, _ = await validate(
        form,
        lookup_tracker(
            "stranger",
            case_number=number,
            requested_slot="case_lookup_last4",
            case_lookup_last4="5678",
        ),
    )
    assert slots["case_lookup_outcome"] == "verified"
    assert slots["case_lookup_last4"] == "****"  # the digits are not kept in the slot

    [message] = report(
        "stranger", case_lookup_outcome="verified", case_verified_number=number
    ).messages
    assert message["response"] == "utter_case_status_with_note"
    assert (message["status"], message["note"], message["phone"]) == (
        "处理中",
        "已联系服务商",
        "138****5678",
    )
    assert message["next_step"]


async def test_wrong_last4_and_unknown_numbers_get_the_same_answer(store: CaseStore) -> None:
    number = open_case(store)
    form = ValidateCaseLookupForm()
    answers = []
    for case_number in (number, "CS2611269999"):
        slots, dispatcher = await validate(
            form,
            lookup_tracker(
                "stranger",
                case_number=case_number,
                requested_slot="case_lookup_last4",
                case_lookup_last4="0000",
            ),
        )
        slots.pop("case_number")
        answers.append((slots, dispatcher.messages))
    assert answers[0] == answers[1]
    assert responses_of(answers[0][1]) == ["utter_case_lookup_mismatch"]


def responses_of(messages: list[dict[str, Any]]) -> list[str]:
    return [message["response"] for message in messages]


async def test_three_wrong_answers_lock_even_a_new_sender(store: CaseStore) -> None:
    number = open_case(store)
    form = ValidateCaseLookupForm()
    for sender in ("s1", "s2", "s3"):
        slots, _ = await validate(
            form,
            lookup_tracker(
                sender,
                case_number=number,
                requested_slot="case_lookup_last4",
                case_lookup_last4="1111",
            ),
        )
    assert slots["case_lookup_outcome"] == "locked"
    assert slots["case_lookup_wait_minutes"] == "15"
    slots, _ = await validate(
        form, lookup_tracker("s4", case_number=number, requested_slot="case_number")
    )
    assert slots["case_lookup_outcome"] == "locked"
    assert responses(report("s4", case_lookup_outcome="locked")) == ["utter_case_lookup_locked"]


async def test_a_malformed_case_number_is_reasked_with_an_example(store: CaseStore) -> None:
    slots, dispatcher = await validate(
        ValidateCaseLookupForm(),
        lookup_tracker("stranger", case_number="我忘了", requested_slot="case_number"),
    )
    assert slots["case_number"] is None
    assert responses(dispatcher) == ["utter_case_number_invalid"]


@pytest.mark.parametrize("text", ["查一下我的工单 CS123", "查进度 cs 2611"])
async def test_a_short_number_in_the_request_itself_gets_the_format(
    store: CaseStore, text: str
) -> None:
    tracker = make_tracker({}, text, "check_case_status", active_loop="case_lookup_form")
    slots, dispatcher = await validate(ValidateCaseLookupForm(), tracker)
    assert responses(dispatcher) == ["utter_case_number_invalid"]
    assert slots["case_number"] is None


async def test_a_request_without_a_number_is_simply_asked_for_one(store: CaseStore) -> None:
    tracker = make_tracker(
        {}, "查一下我的工单", "check_case_status", active_loop="case_lookup_form"
    )
    slots, dispatcher = await validate(ValidateCaseLookupForm(), tracker)
    assert dispatcher.messages == [] and "case_number" not in slots


async def test_emoji_alone_in_a_form_gets_a_word_and_counts_no_miss(store: CaseStore) -> None:
    tracker = make_tracker(
        {"requested_slot": "case_number"},
        "😭😭",
        events=[{"event": "slot", "name": "case_number", "value": "😭😭"}],
        sender="stranger",
        active_loop="case_lookup_form",
    )
    slots, dispatcher = await validate(ValidateCaseLookupForm(), tracker)
    assert responses(dispatcher) == ["utter_case_form_no_words"]
    assert slots["case_number"] is None and "case_form_misses" not in slots
    angry = make_tracker(
        {"requested_slot": "phone_number"},
        "😡",
        events=[{"event": "slot", "name": "phone_number", "value": "😡"}],
        active_loop="open_case_form",
    )
    slots, dispatcher = await validate(ValidateOpenCaseForm(), angry)
    assert responses(dispatcher) == ["utter_case_form_no_words_angry"]  # a person, or stop
    assert slots["phone_number"] is None and "case_form_misses" not in slots


@pytest.mark.parametrize(
    ("form", "slots", "text", "intent"),
    [
        (ValidateOpenCaseForm(), {"requested_slot": "phone_number"}, "帮我登记", "open_case"),
        (
            ValidateCaseLookupForm(),
            {"requested_slot": "case_number"},
            "查询进度",
            "check_case_status",
        ),
    ],
)
async def test_asking_for_the_same_flow_again_keeps_the_form_going(
    store: CaseStore, form: Any, slots: dict[str, Any], text: str, intent: str
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots, text, intent, active_loop=form.name().removeprefix("validate_"))
    events = await form.run(dispatcher, tracker, DOMAIN)
    # A slot event other than requested_slot, so Rasa does not reject the form (and fall back):
    # the same question is asked again, with nothing filled and no error message.
    assert [e["name"] for e in events if e["event"] == "slot"] == ["case_form_misses"]
    assert dispatcher.messages == []


async def test_another_flow_inside_a_case_form_still_leaves_it(store: CaseStore) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"requested_slot": "phone_number"},
        "查询进度",
        "check_case_status",
        active_loop="open_case_form",
    )
    events = await ValidateOpenCaseForm().run(dispatcher, tracker, DOMAIN)
    assert [e for e in events if e["event"] == "slot"] == []  # Rasa rejects, the rules switch


async def test_a_second_malformed_case_number_offers_a_way_out_of_the_lookup(
    store: CaseStore,
) -> None:
    first, _ = await validate(
        ValidateCaseLookupForm(),
        lookup_tracker("stranger", case_number="POS20261203-0001", requested_slot="case_number"),
    )
    slots, dispatcher = await validate(
        ValidateCaseLookupForm(),
        lookup_tracker(
            "stranger",
            case_number="1234",
            requested_slot="case_number",
            case_form_misses=first["case_form_misses"],
        ),
    )
    assert slots["case_number"] is None
    # The way out says 不查了, not the case form's 不登记了.
    assert responses(dispatcher) == ["utter_case_number_invalid", "utter_case_lookup_offer_human"]
    assert "不查了" in DOMAIN["responses"]["utter_case_lookup_offer_human"][0]["text"]


async def test_my_cases_are_listed_for_the_same_trusted_identity(store: CaseStore) -> None:
    number = open_case(store, sender="web:session-1")
    slots, _ = await validate(
        ValidateCaseLookupForm(),
        make_tracker(sender="web:session-1", active_loop="case_lookup_form"),
    )
    assert slots["requested_slot"] is None  # the form ends without asking anything
    [message] = report("web:session-1").messages
    assert message["response"] == "utter_my_cases"
    assert number in message["case_lines"] and "已受理" in message["case_lines"]
    # Someone else has no cases here, so they are asked for a number instead.
    for other in ("web:session-2", "rest:web:session-1"):
        slots, _ = await validate(
            ValidateCaseLookupForm(), make_tracker(sender=other, active_loop="case_lookup_form")
        )
        assert slots == {}


async def test_cases_opened_over_rest_are_never_listed_without_the_last4(
    store: CaseStore,
) -> None:
    open_case(store, sender="rest:user-a")
    slots, _ = await validate(
        ValidateCaseLookupForm(), make_tracker(sender="rest:user-a", active_loop="case_lookup_form")
    )
    assert slots == {}  # asked for a case number
    dispatcher = report("rest:user-a")  # a forged call straight to the report
    assert responses(dispatcher) == ["utter_case_lookup_verify_again"]


async def test_lookup_with_the_database_down_apologises(broken_store: CaseStore) -> None:
    slots, _ = await validate(
        ValidateCaseLookupForm(),
        lookup_tracker("stranger", case_number="CS2611260001", requested_slot="case_number"),
    )
    assert slots["case_lookup_outcome"] == "unavailable"
    dispatcher = report("stranger", case_lookup_outcome="unavailable")
    assert responses(dispatcher) == ["utter_case_lookup_unavailable"]


# ---------------------------------------------------------------- handoff


def conversation(*texts: str) -> list[dict[str, Any]]:
    return [{"event": "user", "text": text, "input_channel": "rest"} for text in texts]


async def test_handoff_queues_a_masked_summary_and_pauses(store: CaseStore) -> None:
    number = open_case(store, sender="user-a")  # this conversation opened it: verified
    tracker = make_tracker(
        {"situation": "suspicious_call", "case_number": number},
        events=conversation(
            "你好", "/request_human", "有人打电话说是售后", "我的电话 13812345678", "转人工"
        ),
    )
    dispatcher = CollectingDispatcher()
    events = ActionHandoffToHuman().run(dispatcher, tracker, DOMAIN)
    assert events == [ConversationPaused()]
    assert responses(dispatcher) in (STARTED, STARTED_AFTER_HOURS)
    [request] = store.handoffs.list()
    assert request.summary == "有人打电话说是售后 / 我的电话 138****5678 / 转人工"
    assert (request.category, request.case_number, request.channel) == (
        "suspicious_call",
        number,
        "rest",
    )
    # Asking again while waiting does not queue twice.
    ActionHandoffToHuman().run(CollectingDispatcher(), tracker, DOMAIN)
    assert len(store.handoffs.list()) == 1


async def test_handoff_without_a_database_apologises_and_does_not_pause(
    broken_store: CaseStore,
) -> None:
    with pytest.raises(StoreUnavailable):
        broken_store.handoffs.list()
    dispatcher = CollectingDispatcher()
    events = ActionHandoffToHuman().run(
        dispatcher, make_tracker({"situation": "suspicious_call"}), DOMAIN
    )
    assert events == []
    assert responses(dispatcher) == ["utter_handoff_unavailable"]
    variants = DOMAIN["responses"]["utter_handoff_unavailable"]
    assert "96110" in variants[0]["text"] and "96110" not in variants[-1]["text"]


# ---------------------------------------------------------------- adding information later


def inform(text: str, sender: str, slots: dict[str, Any] | None = None, **entities: str) -> Tracker:
    return make_tracker(
        slots,
        text=text,
        sender=sender,
        entities=[{"entity": name, "value": value} for name, value in entities.items()],
    )


async def test_the_opener_adds_a_tracking_number_as_a_timeline_note(store: CaseStore) -> None:
    number = open_case(store)
    dispatcher = CollectingDispatcher()
    tracker = inform(
        f"补充单号 SF1234567890123 到 {number}",
        "wx:o-user-a",
        case_number=number,
        tracking_number="SF1234567890123",
    )
    ActionAddCaseInfo().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_case_info_added"]
    notes = [event.note for event in store.get_case(number).events if event.kind == "note"]
    assert notes == ["快递单号 SF1234567890123"]
    assert store.get_case(number).latest_public_note is None  # staff-facing, not "客服说明"


async def test_a_stranger_must_verify_before_adding_information(store: CaseStore) -> None:
    number = open_case(store)
    dispatcher = CollectingDispatcher()
    tracker = inform("补充", "stranger", case_number=number, tracking_number="SF1234567890123")
    ActionAddCaseInfo().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_case_info_verify_first"]
    assert [e.kind for e in store.get_case(number).events] == ["created"]
    # A forged "verified" slot changes nothing: only the store's record counts.
    dispatcher = CollectingDispatcher()
    forged = inform("补充金额59元", "stranger", {"case_verified_number": number}, amount="59")
    ActionAddCaseInfo().run(dispatcher, forged, DOMAIN)
    assert responses(dispatcher) == ["utter_case_info_verify_first"]
    assert [e.kind for e in store.get_case(number).events] == ["created"]
    # After a verified lookup in this conversation the same message is accepted.
    store.verify_last4(number, "5678", "stranger")
    dispatcher = CollectingDispatcher()
    ActionAddCaseInfo().run(dispatcher, forged, DOMAIN)
    assert responses(dispatcher) == ["utter_case_info_added"]


async def test_closed_cases_take_no_more_information(store: CaseStore) -> None:
    number = open_case(store)
    store.change_status(number, "closed")
    dispatcher = CollectingDispatcher()
    ActionAddCaseInfo().run(
        dispatcher, inform("补充", "wx:o-user-a", case_number=number, brand="拉卡拉"), DOMAIN
    )
    assert responses(dispatcher) == ["utter_case_info_case_closed"]


async def test_cancelling_a_lookup_does_not_talk_about_registering() -> None:
    from rasa_sdk.executor import CollectingDispatcher

    from actions.cases import ActionCancelCaseForm

    tracker = build_tracker(
        "算了",
        "cancel",
        events=[
            {"event": "active_loop", "name": "case_lookup_form"},
            user_event("算了"),
            {"event": "active_loop", "name": None},
        ],
    )
    dispatcher = CollectingDispatcher()
    ActionCancelCaseForm().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_case_lookup_cancelled"]


# ---------------------------------------------------------------- limits per identity


def with_address(tracker: Tracker, address: str) -> Tracker:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            event["metadata"] = {"client_address": address}
            break
    return tracker


@pytest.fixture
def strict_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CaseStore]:
    store = CaseStore(
        f"sqlite:///{tmp_path / 'strict.db'}",
        limits=AbuseLimits(
            cases_per_conversation=1, handoffs_per_address=1, lookup_failures_per_address=6
        ),
    )
    monkeypatch.setattr(provider, "get_case_store", lambda: store)
    yield store
    store.dispose()


async def test_too_many_new_cases_get_a_polite_refusal(strict_store: CaseStore) -> None:
    first = make_tracker(open_case_slots(), events=[FORM_STARTED])
    ActionSubmitCase().run(CollectingDispatcher(), first, DOMAIN)
    second_run = {**FORM_STARTED, "timestamp": FORM_STARTED["timestamp"] + 600}
    second = make_tracker(open_case_slots(case_description="另一件事"), events=[second_run])
    dispatcher = CollectingDispatcher()
    events = ActionSubmitCase().run(dispatcher, second, DOMAIN)
    assert responses(dispatcher) == ["utter_case_create_rate_limited"]
    assert_known_responses(dispatcher)
    assert len(strict_store.list_cases()) == 1
    assert [e["name"] for e in events if e["value"] is not None] == []


async def test_handoffs_are_limited_per_client_address(strict_store: CaseStore) -> None:
    def ask(sender: str) -> CollectingDispatcher:
        dispatcher = CollectingDispatcher()
        tracker = with_address(make_tracker(sender=sender, text="转人工"), "203.0.113.5")
        ActionHandoffToHuman().run(dispatcher, tracker, DOMAIN)
        return dispatcher

    assert responses(ask("rest:a")) in (STARTED, STARTED_AFTER_HOURS)
    refused = ask("rest:b")  # another sender, same client address
    assert responses(refused) == ["utter_handoff_rate_limited"]
    assert_known_responses(refused)
    assert [r.conversation_id for r in strict_store.handoffs.list()] == ["rest:a"]


async def test_lookup_failures_count_per_client_address(strict_store: CaseStore) -> None:
    number = open_case(strict_store)
    form = ValidateCaseLookupForm()
    outcomes = []
    for index in range(7):
        tracker = lookup_tracker(
            f"rest:rotating-{index}",
            case_number=f"CS{index:010d}",
            requested_slot="case_lookup_last4",
            case_lookup_last4="0000",
        )
        slots, _ = await validate(form, with_address(tracker, "198.51.100.20"))
        outcomes.append(slots.get("case_lookup_outcome"))
    assert outcomes[:5] == [None] * 5 and outcomes[5:] == ["locked", "locked"]
    # The right answer for a real case from that address is refused too, with the same words.
    tracker = lookup_tracker("rest:fresh", case_number=number, requested_slot="case_number")
    slots, _ = await validate(form, with_address(tracker, "198.51.100.20"))
    assert slots["case_lookup_outcome"] == "locked"
    assert responses(report("rest:fresh", **slots)) == ["utter_case_lookup_locked"]


def test_the_client_address_is_read_from_the_latest_user_message_only() -> None:
    tracker = make_tracker(text="你好")
    assert client_address_of(tracker) is None
    assert client_address_of(with_address(tracker, "203.0.113.1")) == "203.0.113.1"
    tracker.events.append({"event": "user", "text": "再来", "metadata": {"client_address": 7}})
    assert client_address_of(tracker) is None  # not a string: ignored


async def test_a_handoff_does_not_attach_a_case_the_conversation_is_not_verified_for(
    store: CaseStore,
) -> None:
    someone_elses = open_case(store, sender="wx:o-owner")
    tracker = make_tracker(
        {"case_number": someone_elses, "case_verified_number": someone_elses},
        sender="rest:stranger",
        events=conversation("查询进度", "转人工"),
    )
    ActionHandoffToHuman().run(CollectingDispatcher(), tracker, DOMAIN)
    [request] = store.handoffs.list()
    assert request.case_number is None

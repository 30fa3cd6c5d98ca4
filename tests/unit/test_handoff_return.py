"""The handoff informs (wait, working hours, emergency) and can be undone ("不用了")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff_return as handoff_return
from actions.every_message import ActionValidateSlotMappings
from actions.handoff_return import handoff_started, wants_assistant_back
from pos_assistant.cases import provider
from pos_assistant.cases.store import CaseStore
from pos_assistant.settings import get_settings
from pos_assistant.working_hours import WorkingHours
from tests.unit.test_conversation_actions import DOMAIN

NOW = time.time()
SENDER = "rest:waiting-user"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CaseStore]:
    case_store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    monkeypatch.setattr(provider, "get_case_store", lambda: case_store)
    monkeypatch.setenv("RASA_API_TOKEN", "unit-test-token")
    get_settings.cache_clear()
    yield case_store
    get_settings.cache_clear()
    case_store.dispose()


@pytest.fixture
def resumed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(handoff_return, "resume_later", calls.append)
    return calls


def paused_tracker(
    text: str, after_pause: list[dict[str, Any]] | None = None, **parse: Any
) -> Tracker:
    message = {"text": text, "intent": {"name": "deny"}, "entities": [], **parse}
    events = [
        {"event": "bot", "text": "已为您转接人工客服", "timestamp": NOW - 5},
        {"event": "pause", "timestamp": NOW - 5},
        *(after_pause or []),
        {"event": "user", "text": text, "parse_data": message, "timestamp": NOW},
    ]
    return Tracker.from_dict(
        {
            "sender_id": SENDER,
            "slots": {},
            "latest_message": message,
            "events": events,
            "paused": True,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def said(tracker: Tracker) -> list[str]:
    dispatcher = CollectingDispatcher()
    await ActionValidateSlotMappings(clock=lambda: NOW).run(dispatcher, tracker, DOMAIN)
    return [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("不用了", True),
        ("不用人工了，我自己登记", True),
        ("算了 不等了", True),
        ("never mind", True),
        ("好的 机器是上周收到的", False),
        ("人呢", False),
    ],
)
def test_wanting_the_assistant_back(text: str, back: bool) -> None:
    assert wants_assistant_back(text) is back


async def test_no_thanks_withdraws_the_queue_entry_and_resumes(
    store: CaseStore, resumed: list[str]
) -> None:
    store.handoffs.enqueue(SENDER, channel="rest", summary="转人工")
    assert await said(paused_tracker("不用人工了，我自己登记")) == ["utter_handoff_withdrawn"]
    assert store.handoffs.list() == []
    assert resumed == [SENDER]


async def test_once_an_agent_has_answered_the_assistant_stays_quiet(
    store: CaseStore, resumed: list[str]
) -> None:
    store.handoffs.enqueue(SENDER, channel="rest", summary="转人工")
    agent = {"event": "bot", "text": "您好，我是小王", "metadata": {"agent": "小王"}}
    assert await said(paused_tracker("不用了", [agent])) == []
    assert len(store.handoffs.list()) == 1 and resumed == []


async def test_without_the_api_token_the_user_stays_queued(
    store: CaseStore, resumed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_API_TOKEN", "")
    get_settings.cache_clear()
    store.handoffs.enqueue(SENDER, channel="rest", summary="转人工")
    assert await said(paused_tracker("不用了")) == ["utter_handoff_withdraw_failed"]
    assert len(store.handoffs.list()) == 1 and resumed == []


async def test_the_first_message_while_waiting_is_acknowledged_once() -> None:
    assert await said(paused_tracker("我的机器是拉卡拉的")) == ["utter_handoff_message_kept"]
    kept = {"event": "bot", "text": "收到，已留给人工客服", "timestamp": NOW - 1}
    assert await said(paused_tracker("一直没人理我", [kept])) == []


async def test_a_scam_message_while_waiting_gets_the_emergency_steps_every_time() -> None:
    kept = {"event": "bot", "text": "收到，已留给人工客服", "timestamp": NOW - 1}
    tracker = paused_tracker("他又打电话来要验证码", [kept], safety_guard={"triggered": True})
    assert await said(tracker) == ["utter_handoff_emergency"]


@pytest.mark.parametrize(
    ("utc_hour", "response"),
    [(3, "utter_handoff_started"), (14, "utter_handoff_started_after_hours")],  # 11:00 / 22:00
)
def test_the_handoff_message_says_the_wait_or_when_agents_are_back(
    utc_hour: int, response: str
) -> None:
    dispatcher = CollectingDispatcher()
    handoff_started(dispatcher, now=datetime(2026, 12, 2, utc_hour, tzinfo=timezone.utc))
    [message] = dispatcher.messages
    assert message["response"] == response
    assert message["working_hours"] == "09:00–21:00"
    assert message["wait_minutes"] == str(get_settings().handoff_expected_wait_minutes)
    text = DOMAIN["responses"][response][0]["text"]
    for needed in (
        "{wait_minutes}" if response.endswith("started") else "",
        "110",
        "96110",
        "不用了",
    ):
        assert needed in text


@pytest.mark.parametrize(
    ("hours", "beijing_hour", "open_"),
    [
        ("09:00-21:00", 9, True),
        ("09:00-21:00", 21, False),
        ("22:00-06:00", 23, True),
        ("22:00-06:00", 7, False),
        ("00:00-24:00", 23, True),
    ],
)
def test_working_hours(hours: str, beijing_hour: int, open_: bool) -> None:
    moment = datetime(2026, 12, 2, (beijing_hour - 8) % 24, 30, tzinfo=timezone.utc)
    assert WorkingHours.parse(hours).is_open(moment) is open_


@pytest.mark.parametrize("bad", ["9-21", "25:00-26:00", "09:00-09:00", ""])
def test_malformed_working_hours_fail_fast(bad: str) -> None:
    with pytest.raises(ValueError):
        WorkingHours.parse(bad)


def test_the_resume_request_reaches_rasa_before_the_turn_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real request (not the stand-in above), to a local server standing in for Rasa."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[tuple[str, object]] = []
    arrived = threading.Event()

    class FakeRasa(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            arrived.set()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("RASA_API_TOKEN", "unit-test-token")
    get_settings.cache_clear()
    try:
        handoff_return._resume_after_this_turn("rest:waiting user")
        assert arrived.wait(30)
    finally:
        server.shutdown()
        get_settings.cache_clear()
    [(path, events)] = received
    assert path == "/conversations/rest:waiting%20user/tracker/events?token=unit-test-token"
    assert events[0] == {"event": "resume"}

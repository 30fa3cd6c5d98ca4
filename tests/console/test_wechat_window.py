"""WeChat's 48-hour customer-service window: the view says when it ends, and once it has passed a
reply is refused (WeChat would refuse it) instead of failing silently."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from tests.console.server import RasaStandIn, RunningConsole

CONVERSATION = "wx:o-window"


def tracker_with_last_message_at(timestamp: float) -> dict:
    return {
        "slots": {},
        "events": [
            {
                "event": "user",
                "timestamp": timestamp,
                "text": "转人工",
                "parse_data": {"intent": {"name": "request_human", "confidence": 1.0}},
            }
        ],
    }


def test_the_window_is_shown_and_a_reply_after_it_is_refused(
    console: RunningConsole, rasa: RasaStandIn
) -> None:
    console.store.handoffs.enqueue(CONVERSATION, channel="wechat", summary="x")
    agent = console.login("agent1")
    path = f"/api/conversations/{CONVERSATION}"

    written = time.time() - 47 * 3600
    rasa.tracker = tracker_with_last_message_at(written)
    ends = datetime.fromisoformat(agent.get(path).json()["wechat_window_ends"])
    assert ends == datetime.fromtimestamp(written, tz=timezone.utc) + timedelta(hours=48)
    assert agent.post(f"{path}/reply", json={"text": "您好"}).status_code == 200

    rasa.tracker = tracker_with_last_message_at(time.time() - 49 * 3600)
    refused = agent.post(f"{path}/reply", json={"text": "还在吗"})
    assert refused.status_code == 409 and refused.json()["error"] == "wechat_window_closed"
    assert rasa.sent == [(CONVERSATION, "您好", "agent1")]

    # Other channels have no such window.
    console.store.handoffs.enqueue("web:s-window", channel="socketio", summary="x")
    assert agent.get("/api/conversations/web:s-window").json()["wechat_window_ends"] is None

"""Routing by topic: a lead routes topics to an agent, whose queue then shows those first."""

from __future__ import annotations

from tests.console.server import RunningConsole


def queue_order(console: RunningConsole, username: str) -> list[str]:
    client = console.login(username)
    return [entry["conversation_id"] for entry in client.get("/api/handoffs").json()["handoffs"]]


def test_an_agents_topics_come_first_and_their_own_conversations_before_them(
    console: RunningConsole,
) -> None:
    store = console.store
    store.handoffs.enqueue("web:a", channel="socketio", summary="x", category="gift_not_mailed")
    store.handoffs.enqueue("web:b", channel="socketio", summary="x", category="suspicious_call")
    store.handoffs.enqueue("web:c", channel="socketio", summary="x", category="unordered_device")
    assert queue_order(console, "agent1") == ["web:a", "web:b", "web:c"]  # oldest first

    lead = console.login("lead1")
    agent = console.login("agent1")
    assert agent.put("/api/agents/agent1/topics", json={"topics": []}).status_code == 403
    unknown = lead.put("/api/agents/agent1/topics", json={"topics": ["nonsense"]})
    assert unknown.status_code == 400
    routed = lead.put("/api/agents/agent1/topics", json={"topics": ["unordered_device"]})
    assert routed.json()["topics"] == ["unordered_device"]
    assert queue_order(console, "agent1") == ["web:c", "web:a", "web:b"]
    assert queue_order(console, "agent2") == ["web:a", "web:b", "web:c"]  # not routed to them

    store.handoffs.take("web:b", "agent1")
    store.handoffs.take("web:a", "agent2")
    assert queue_order(console, "agent1") == ["web:b", "web:c", "web:a"]
    listed = {
        entry["username"]: entry["topics"] for entry in lead.get("/api/agents").json()["agents"]
    }
    assert listed["agent1"] == ["unordered_device"] and listed["agent2"] == []

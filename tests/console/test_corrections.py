"""Corrections: an agent marks a misread message with the right intent; a lead reviews them and
exports the accepted ones as an NLU file that Rasa's own reader loads."""

from __future__ import annotations

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from tests.console.server import RunningConsole

CONVERSATION = "web:s-corrections"
MESSAGE_TS = 1_800_000_000  # the user message of the stand-in tracker (tests/console/server.py)


def test_a_correction_is_reviewed_and_exported_as_nlu_data(console: RunningConsole) -> None:
    console.store.handoffs.enqueue(CONVERSATION, channel="socketio", summary="x")
    agent = console.login("agent1")
    lead = console.login("lead1")
    path = f"/api/conversations/{CONVERSATION}/corrections"
    [message] = [
        e
        for e in agent.get(f"/api/conversations/{CONVERSATION}").json()["transcript"]
        if e["speaker"] == "user"
    ]
    assert message["ts"] == MESSAGE_TS
    names = [intent["name"] for intent in agent.get("/api/intents").json()["intents"]]
    assert "report_gift_not_mailed" in names and "request_human" in names

    for refused in (
        {"timestamp": MESSAGE_TS + 1, "intent": "report_gift_not_mailed"},  # no such message
        {"timestamp": MESSAGE_TS, "intent": "no_such_intent"},
        {"timestamp": MESSAGE_TS, "intent": "report_unordered_device"},  # already read so
        {"intent": "report_gift_not_mailed"},
    ):
        assert agent.post(path, json=refused).status_code == 400, refused
    added = agent.post(path, json={"timestamp": MESSAGE_TS, "intent": "report_gift_not_mailed"})
    assert added.status_code == 201
    correction = added.json()
    assert correction["predicted_intent"] == "report_unordered_device"
    assert correction["text"] == "收到一台没买的pos机，电话138****5678"  # masked

    assert agent.get("/api/corrections").status_code == 403
    assert agent.get("/api/corrections/export").status_code == 403
    pending = lead.get("/api/corrections", params={"status": "pending"}).json()["corrections"]
    assert [item["id"] for item in pending] == [correction["id"]]
    assert "intent: report_gift_not_mailed" not in lead.get("/api/corrections/export").text
    reviewed = lead.post(f"/api/corrections/{correction['id']}/review", json={"accept": True})
    assert reviewed.json()["status"] == "accepted" and reviewed.json()["reviewed_by"] == "lead1"

    exported = lead.get("/api/corrections/export")
    assert exported.headers["content-disposition"].startswith("attachment")
    training = RasaYAMLReader().reads(exported.text)
    assert [(m.get("intent"), m.get("text")) for m in training.intent_examples] == [
        ("report_gift_not_mailed", "收到一台没买的pos机，电话138****5678")
    ]

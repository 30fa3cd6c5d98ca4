"""The case card: an agent opens a case for the customer, who then owns it like one they opened
with the assistant; status changes and notes (public or internal) go into its timeline."""

from __future__ import annotations

from tests.console.server import RunningConsole

CONVERSATION = "web:s-case-card"


def test_an_agent_opens_a_case_for_the_customer_and_works_on_it(console: RunningConsole) -> None:
    console.store.handoffs.enqueue(CONVERSATION, channel="socketio", summary="x")
    agent = console.login("agent1")
    path = f"/api/conversations/{CONVERSATION}"
    assert agent.get(path).json()["case"] is None
    body = {
        "category": "unordered_device",
        "contact_phone": "13912345678",
        "description": "收到没买的机器",
    }
    assert agent.post(f"{path}/case", json={**body, "contact_phone": "123"}).status_code == 400
    assert agent.post(f"{path}/case", json={**body, "description": " "}).status_code == 400
    opened = agent.post(f"{path}/case", json=body)
    assert opened.status_code == 201
    case = opened.json()
    assert case["phone"] == "139****5678" and case["category_label"] == "没买却收到POS机"

    # The card shows it, and the customer's conversation owns it.
    assert agent.get(path).json()["case"]["case_number"] == case["case_number"]
    assert console.store.is_opener(case["case_number"], CONVERSATION)

    number = case["case_number"]
    internal = agent.patch(f"/api/cases/{number}", json={"note": "内部：已联系服务商"})
    public = agent.patch(f"/api/cases/{number}", json={"note": "已联系服务商", "public": True})
    status = agent.patch(f"/api/cases/{number}", json={"status": "in_progress"})
    assert {internal.status_code, public.status_code, status.status_code} == {200}
    events = status.json()["events"]
    assert [(e["kind"], e["public"]) for e in events[1:]] == [
        ("note", False),
        ("note", True),
        ("status", True),
    ]
    assert status.json()["status_label"] == "处理中"
    assert agent.patch(f"/api/cases/{number}", json={"status": "nonsense"}).status_code == 400
    listed = agent.get("/api/cases", params={"status": "处理中"}).json()["cases"]
    assert [item["case_number"] for item in listed] == [number]

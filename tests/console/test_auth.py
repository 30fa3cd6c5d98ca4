"""Console security against the real app and a real SQLite store: sessions, CSRF, disabled
accounts, login limits, one owner at a time and the audit log. Rasa is a recorded stand-in here
(tests/console/test_console_api_flow.py runs the real one)."""

from __future__ import annotations

import re
from datetime import timedelta

from pos_assistant.cases.records import NewCase
from pos_assistant.cases.store import CaseStore
from pos_assistant.console.app import create_app
from pos_assistant.console.auth import COOKIE_NAME, CSRF_HEADER
from pos_assistant.settings import Settings
from tests.console.server import PASSWORD, Clock, RasaStandIn, RunningConsole

CONVERSATION = "web:s-auth"


def open_case(store: CaseStore) -> str:
    return store.create_case(
        NewCase(
            category="unordered_device",
            contact_phone="13812345678",
            description="收到没买的机器",
            channel="socketio",
            channel_user_id=CONVERSATION,
            idempotency_key="auth-case",
        )
    ).case_number


def api_routes() -> list[tuple[str, str]]:
    """Every (method, path) the console serves under /api/, read from the app itself, with
    sample values in the path: a route added later is covered without editing this test."""
    settings = Settings(
        database_url="sqlite://", rasa_url="", rasa_api_token="", environment="test"
    )
    app = create_app(settings, store=CaseStore("sqlite://"), secret_key=b"k")
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if not path.startswith("/api/") or route.method in ("HEAD", "*"):
            continue
        found.add((route.method, re.sub(r"\{[^}]+\}", "1", path)))
    return sorted(found)


ROUTES = api_routes()
CHANGES = [(method, path) for method, path in ROUTES if method not in ("GET", "HEAD")]


def test_the_route_list_covers_the_documented_api() -> None:
    for expected in [
        ("POST", "/api/login"),
        ("GET", "/api/handoffs"),
        ("GET", "/api/conversations/1"),
        ("POST", "/api/conversations/1/take"),
        ("POST", "/api/conversations/1/reply"),
        ("POST", "/api/conversations/1/release"),
        ("GET", "/api/cases"),
        ("GET", "/api/cases/1"),
        ("PATCH", "/api/cases/1"),
        ("POST", "/api/assist"),
        ("GET", "/api/events"),
        ("GET", "/api/audit"),
        ("POST", "/api/conversations/1/corrections"),
        ("GET", "/api/corrections/export"),
        ("GET", "/api/photos/1"),
    ]:
        assert expected in ROUTES


def test_every_api_path_without_a_session_answers_401(console: RunningConsole) -> None:
    with console.client() as client:
        for method, path in ROUTES:
            if path == "/api/login":
                continue
            answer = client.request(method, path, json={})
            assert answer.status_code == 401, (method, path, answer.text)
        # A forged or tampered cookie is no session either.
        client.cookies.set(COOKIE_NAME, "forged.signature")
        for method, path in ROUTES:
            if path != "/api/login":
                assert client.request(method, path, json={}).status_code == 401, (method, path)


def test_every_change_without_the_csrf_header_answers_403(console: RunningConsole) -> None:
    client = console.login("lead1")
    token = client.headers.pop(CSRF_HEADER)
    wrong = {CSRF_HEADER: token[:-1] + ("A" if token[-1] != "A" else "B")}
    for method, path in CHANGES:
        if path == "/api/login":
            continue
        assert client.request(method, path, json={}).status_code == 403, (method, path)
        assert client.request(method, path, json={}, headers=wrong).status_code == 403
    # The session itself still works: GET needs no token, and the right token is accepted.
    assert client.get("/api/me").status_code == 200
    assert client.post("/api/logout", headers={CSRF_HEADER: token}).status_code == 200


def test_the_session_cookie_is_signed_httponly_strict_and_expires(
    console: RunningConsole, clock: Clock
) -> None:
    with console.client() as client:
        answer = client.post("/api/login", json={"username": "agent1", "password": PASSWORD})
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=28800" in cookie
        assert client.get("/api/me").json()["username"] == "agent1"
        value = client.cookies[COOKIE_NAME]
        client.cookies.clear()
        client.cookies.set(COOKIE_NAME, "x" + value[1:])  # another session id, same signature
        assert client.get("/api/me").status_code == 401
        client.cookies.clear()
        client.cookies.set(COOKIE_NAME, value)
        assert client.get("/api/me").status_code == 200
        clock.now += timedelta(minutes=481)
        assert client.get("/api/me").status_code == 401


def test_a_disabled_account_cannot_log_in_and_its_session_ends(console: RunningConsole) -> None:
    agent = console.login("agent1")
    lead = console.login("lead1")
    assert agent.post("/api/agents/agent2/disable").status_code == 403  # agents cannot
    assert lead.post("/api/agents/agent1/disable").status_code == 200
    assert agent.get("/api/handoffs").status_code == 401
    with console.client() as client:
        refused = client.post("/api/login", json={"username": "agent1", "password": PASSWORD})
        assert refused.status_code == 401
        # The same answer as a wrong password: nobody learns which accounts exist or are off.
        wrong = client.post("/api/login", json={"username": "agent2", "password": "wrong one!"})
        assert wrong.status_code == 401 and wrong.json() == refused.json()


def test_logins_are_rate_limited_per_name_and_per_address(console: RunningConsole) -> None:
    with console.client() as client:
        for _ in range(5):
            answer = client.post("/api/login", json={"username": "agent2", "password": "nope"})
            assert answer.status_code == 401
        right = client.post("/api/login", json={"username": "agent2", "password": PASSWORD})
        assert right.status_code == 429
        # A colleague at the same address still gets in…
        other = client.post("/api/login", json={"username": "agent1", "password": PASSWORD})
        assert other.status_code == 200
        # …until guesses across names reach the address's limit (4 × the per-name one).
        for number in range(15):
            client.post("/api/login", json={"username": f"guess{number}", "password": "nope"})
        other = client.post("/api/login", json={"username": "agent1", "password": PASSWORD})
        assert other.status_code == 429


def test_one_owner_at_a_time_and_a_lead_can_reassign(
    console: RunningConsole, rasa: RasaStandIn
) -> None:
    console.store.handoffs.enqueue(CONVERSATION, channel="socketio", summary="x")
    path = f"/api/conversations/{CONVERSATION}"
    first = console.login("agent1")
    second = console.login("agent2")
    assert first.post(f"{path}/take").json()["taken_by"] == "agent1"
    refused = second.post(f"{path}/take")
    assert refused.status_code == 409 and refused.json()["owner"] == "agent1"
    assert second.post(f"{path}/reply", json={"text": "你好"}).status_code == 409
    assert second.post(f"{path}/release", json={}).status_code == 409
    assert second.post(f"{path}/take", json={"reassign": True}).status_code == 403
    assert rasa.sent == [] and rasa.resumed == []
    lead = console.login("lead1")
    assert lead.post(f"{path}/take", json={"reassign": True}).json()["taken_by"] == "lead1"


def test_the_audit_log_has_every_view_and_change_and_only_leads_read_it(
    console: RunningConsole, rasa: RasaStandIn
) -> None:
    case_number = open_case(console.store)
    console.store.handoffs.enqueue(
        CONVERSATION, channel="socketio", summary="x", case_number=case_number
    )
    path = f"/api/conversations/{CONVERSATION}"
    agent = console.login("agent1")
    view = agent.get(path).json()
    assert "13812345678" not in str(view) and "138****5678" in view["transcript"][0]["text"]
    assert agent.post(f"{path}/take").status_code == 200
    assert agent.post(f"{path}/reply", json={"text": "您好，我是客服"}).status_code == 200
    assert agent.get(f"/api/cases/{case_number}").status_code == 200
    patched = agent.patch(f"/api/cases/{case_number}", json={"status": "处理中", "note": "已联系"})
    assert patched.status_code == 200 and patched.json()["status"] == "in_progress"
    assert agent.post(f"{path}/release", json={"summary": "已说明退回方式"}).status_code == 200
    assert agent.get("/api/audit").status_code == 403
    assert rasa.sent == [(CONVERSATION, "您好，我是客服", "agent1")]
    assert rasa.resumed == [CONVERSATION]
    lead = console.login("lead1")
    entries = lead.get("/api/audit", params={"actor": "agent1"}).json()["entries"]
    done = [(entry["action"], entry["target"]) for entry in reversed(entries)]
    assert done == [
        ("login", "agent1"),
        ("conversation.view", CONVERSATION),
        ("handoff.take", CONVERSATION),
        ("handoff.reply", CONVERSATION),
        ("case.view", case_number),
        ("case.status", case_number),
        ("handoff.release", CONVERSATION),
    ]
    assert all(entry["at"].startswith("2026-12-02T08:00") for entry in entries)

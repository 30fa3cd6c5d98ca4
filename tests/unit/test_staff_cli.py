"""The staff command-line tool against a real SQLite store and a stand-in Rasa HTTP server."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from pos_assistant.cases.records import NewCase
from pos_assistant.cases.store import CaseStore
from pos_assistant.settings import Settings
from pos_assistant.staff.cli import main
from pos_assistant.staff.rasa_client import RESUME_EVENTS
from tests.e2e.stack import free_port


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    yield store
    store.dispose()


def run(store: CaseStore, *argv: str, rasa_url: str = "http://127.0.0.1:9") -> tuple[int, str]:
    out = io.StringIO()
    settings = Settings(
        database_url="unused", rasa_url=rasa_url, rasa_api_token="secret", environment="test"
    )
    code = main(list(argv), store=store, settings=settings, out=out)
    return code, out.getvalue()


def open_case(store: CaseStore) -> str:
    return store.create_case(
        NewCase(
            category="gift_not_mailed",
            contact_phone="13812345678",
            description="赠品没寄",
            channel="rest",
            channel_user_id="u1",
            idempotency_key="k1",
        )
    ).case_number


def test_list_masks_phones_and_show_gives_staff_the_full_phone(store: CaseStore) -> None:
    number = open_case(store)
    code, listing = run(store, "cases", "list")
    assert code == 0
    assert number in listing and "138****5678" in listing and "13812345678" not in listing
    assert "已受理" in listing and "办机赠品没寄" in listing
    code, shown = run(store, "cases", "show", number.lower())
    assert code == 0 and "13812345678" in shown


def test_set_status_with_a_chinese_label_and_note_reaches_the_case(store: CaseStore) -> None:
    number = open_case(store)
    code, _ = run(store, "cases", "set-status", number, "处理中", "--note", "已联系服务商")
    assert code == 0
    case = store.get_case(number)
    assert (case.status, case.latest_public_note) == ("in_progress", "已联系服务商")
    code, out = run(store, "cases", "list", "--status", "处理中")
    assert code == 0 and number in out
    code, out = run(store, "cases", "list", "--status", "已受理")
    assert number not in out


def test_bad_requests_exit_1_with_a_clear_message(store: CaseStore) -> None:
    number = open_case(store)
    assert run(store, "cases", "set-status", number, "做完了")[0] == 1
    code, out = run(store, "cases", "show", "CS2611269999")
    assert code == 1 and "not found" in out
    run(store, "cases", "set-status", number, "已关闭")
    code, out = run(store, "cases", "set-status", number, "处理中")
    assert code == 1 and "not allowed" in out


def test_private_notes_stay_internal(store: CaseStore) -> None:
    number = open_case(store)
    assert run(store, "cases", "add-note", number, "内部：商户电话已记录", "--private")[0] == 0
    assert store.get_case(number).latest_public_note is None
    assert "[内部]" in run(store, "cases", "show", number)[1]


def test_seed_demo_is_repeatable(store: CaseStore) -> None:
    assert run(store, "cases", "seed-demo")[0] == 0
    count = len(store.list_cases())
    assert count >= 3
    run(store, "cases", "seed-demo")
    assert len(store.list_cases()) == count


@dataclass
class FakeRasa:
    """A stand-in for Rasa's HTTP API, one per test: records requests, serves `tracker`."""

    url: str = ""
    received: list[tuple[str, dict]] = field(default_factory=list)
    tracker: dict = field(default_factory=dict)


def _recording_handler(rasa: FakeRasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            rasa.received.append((self.path, {}))
            body = json.dumps(rasa.tracker, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rasa.received.append((self.path, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    rasa = FakeRasa()
    server = HTTPServer(("127.0.0.1", 0), _recording_handler(rasa))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rasa.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield rasa
    server.shutdown()
    server.server_close()


def test_handoff_list_take_and_release_resumes_the_conversation(
    store: CaseStore, fake_rasa: FakeRasa
) -> None:
    store.handoffs.enqueue(
        "web-42", channel="rest", summary="用户：收到没买的机器", category="other"
    )
    code, out = run(store, "handoff", "list")
    assert code == 0 and "web-42" in out and "收到没买的机器" in out
    assert run(store, "handoff", "take", "web-42", "--agent", "agent-1")[0] == 0
    code, out = run(store, "handoff", "release", "web-42", rasa_url=fake_rasa.url)
    assert code == 0, out
    assert fake_rasa.received == [
        ("/conversations/web-42/tracker/events?token=secret", RESUME_EVENTS)
    ]
    assert store.handoffs.list(("waiting", "taken")) == []
    assert "(queue is empty)" in run(store, "handoff", "list")[1]


def test_release_reports_an_unreachable_rasa_and_keeps_the_request(store: CaseStore) -> None:
    store.handoffs.enqueue("web-43", channel="rest", summary="x")
    code, out = run(
        store, "handoff", "release", "web-43", rasa_url=f"http://127.0.0.1:{free_port()}"
    )
    assert code == 1 and "unreachable" in out
    assert [r.conversation_id for r in store.handoffs.list()] == ["web-43"]


def test_release_of_an_unknown_conversation_fails_without_calling_rasa(
    store: CaseStore, fake_rasa: FakeRasa
) -> None:
    code, _ = run(store, "handoff", "release", "nobody", rasa_url=fake_rasa.url)
    assert code == 1
    assert fake_rasa.received == []


WAITING_TRACKER = {
    "slots": {"situation": "unordered_device", "asked_for_codes_or_money": False},
    "events": [
        {
            "event": "user",
            "timestamp": 1_800_000_000,
            "text": "收到一台没买的pos机，电话138****5678",
            "parse_data": {
                "intent": {"name": "report_unordered_device", "confidence": 0.93},
                "entities": [{"entity": "brand", "value": "拉卡拉"}],
            },
        },
        {"event": "bot", "timestamp": 1_800_000_005, "text": "已为您转接人工客服，请稍候。"},
        {
            "event": "bot",
            "timestamp": 1_800_000_060,
            "text": "您好，我是客服小王",
            "metadata": {"agent": "小王"},
        },
    ],
}


def test_handoff_show_gives_the_agent_transcript_understanding_and_steps(
    store: CaseStore, fake_rasa: FakeRasa
) -> None:
    case_number = open_case(store)
    store.handoffs.enqueue(
        "web-44",
        channel="rest",
        summary="收到没买的机器",
        category="unordered_device",
        case_number=case_number,
    )
    fake_rasa.tracker = WAITING_TRACKER
    code, out = run(store, "handoff", "show", "web-44", rasa_url=fake_rasa.url)
    assert code == 0, out
    assert fake_rasa.received == [
        ("/conversations/web-44/tracker?token=secret&include_events=ALL", {})
    ]
    assert "user: 收到一台没买的pos机，电话138****5678" in out
    assert "understood as: report_unordered_device 0.93 · brand=拉卡拉" in out
    assert "assistant: 已为您转接人工客服" in out and "agent:小王: 您好，我是客服小王" in out
    assert "recommended steps (没买POS机却收到一台设备):" in out and "1. 核实来源" in out
    assert case_number in out


def test_handoff_show_names_a_case_number_that_does_not_exist(
    store: CaseStore, fake_rasa: FakeRasa
) -> None:
    store.handoffs.enqueue("web-47", channel="rest", summary="x", case_number="CS2611010099")
    fake_rasa.tracker = {"slots": {}, "events": []}
    code, out = run(store, "handoff", "show", "web-47", rasa_url=fake_rasa.url)
    assert code == 0, out
    assert "CS2611010099 (no such case)" in out


def test_handoff_reply_takes_the_conversation_and_sends_through_the_users_channel(
    store: CaseStore, fake_rasa: FakeRasa
) -> None:
    store.handoffs.enqueue("web-45", channel="socketio", summary="x")
    code, out = run(
        store,
        "handoff",
        "reply",
        "web-45",
        "您好，我来帮您处理",
        "--agent",
        "小王",
        rasa_url=fake_rasa.url,
    )
    assert code == 0, out
    assert fake_rasa.received == [
        (
            "/conversations/web-45/tracker/events"
            "?token=secret&output_channel=latest&execute_side_effects=true",
            [{"event": "bot", "text": "您好，我来帮您处理", "metadata": {"agent": "小王"}}],
        )
    ]
    [request] = store.handoffs.list(("taken",))
    assert (request.conversation_id, request.taken_by) == ("web-45", "小王")


def test_handoff_reply_refuses_empty_text_and_unknown_conversations(
    store: CaseStore, fake_rasa: FakeRasa
) -> None:
    store.handoffs.enqueue("web-46", channel="rest", summary="x")
    assert run(store, "handoff", "reply", "web-46", "  ", rasa_url=fake_rasa.url)[0] == 1
    assert run(store, "handoff", "reply", "nobody", "你好", rasa_url=fake_rasa.url)[0] == 1
    assert fake_rasa.received == []


def test_the_module_entry_point_runs_from_any_folder(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "pos_assistant.staff", "cases", "seed-demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("CS") >= 3
    help_text = subprocess.run(
        [sys.executable, "-m", "pos_assistant.staff", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "cases" in help_text and "handoff" in help_text


# ---------------------------------------------------------------- control characters

ESCAPES = (
    "\x1b[2J\x1b[H",  # clear the screen, cursor home
    "\x1b]0;owned\x07",  # set the terminal title
    "\x1b[31m",  # colour
    "\r",  # overwrite the line
    "\x08\x07\x00\x7f",  # backspace, bell, NUL, DEL
    "\x9b2J",  # C1 CSI
    "\u202e",  # right-to-left override
    "\u2066",  # isolate
)


def hostile(text: str) -> str:
    return "".join(ESCAPES) + text + "\x1b[0m"


def assert_clean(out: str) -> None:
    for sequence in ESCAPES:
        for character in sequence:
            if not character.isprintable():
                assert character not in out, repr(character)
    assert "\x1b" not in out and "[2J" not in out and "owned" not in out


def test_user_text_reaches_the_staff_tool_without_control_characters(store: CaseStore) -> None:
    number = store.create_case(
        NewCase(
            category="gift_not_mailed",
            contact_phone="13812345678",
            description=hostile("赠品没寄\n  2026-12-01 10:00  status → 已解决 (staff)"),
            channel="rest",
            channel_user_id=hostile("rest:u1"),
            idempotency_key="k-hostile",
            brand=hostile("拉卡拉"),
        )
    ).case_number
    store.add_user_note(number, hostile("快递单号 SF1"), hostile("rest:u1"))
    code, shown = run(store, "cases", "show", number)
    assert code == 0
    assert_clean(shown)
    assert "赠品没寄" in shown and "拉卡拉" in shown and "快递单号 SF1" in shown
    # A newline in user text cannot fake a timeline line of the tool's own output.
    assert not any(line.startswith("  2026-12-01 10:00  status") for line in shown.splitlines())
    store.handoffs.enqueue(hostile("rest:u1"), channel="rest", summary=hostile("转人工\r伪造"))
    code, listed = run(store, "handoff", "list")
    assert code == 0
    assert_clean(listed)
    assert "转人工伪造" in listed


def test_the_agent_transcript_strips_control_characters(
    store: CaseStore, fake_rasa: FakeRasa
) -> None:
    store.handoffs.enqueue("web-50", channel="socketio", summary="x")
    fake_rasa.tracker = {
        "slots": {},
        "events": [
            {
                "event": "user",
                "timestamp": 1_800_000_000,
                "text": hostile("我的机器\n  12-01 10:00  agent:小王: 请把验证码发给我"),
                "parse_data": {
                    "intent": {"name": "inform", "confidence": 0.9},
                    "entities": [{"entity": "brand", "value": hostile("拉卡拉")}],
                },
            },
            {"event": "bot", "timestamp": 1_800_000_005, "text": "好的", "metadata": {}},
        ],
    }
    code, out = run(store, "handoff", "show", "web-50", rasa_url=fake_rasa.url)
    assert code == 0, out
    assert_clean(out)
    assert "user: 我的机器" in out and "brand=拉卡拉" in out
    assert not any(line.lstrip().startswith("12-01 10:00  agent:") for line in out.splitlines())


def test_a_case_number_the_user_only_typed_is_not_shown_as_their_case(
    store: CaseStore, fake_rasa: FakeRasa
) -> None:
    number = open_case(store)
    store.handoffs.enqueue("web-51", channel="socketio", summary="x")  # no verified case
    fake_rasa.tracker = {"slots": {"case_number": number}, "events": []}
    code, out = run(store, "handoff", "show", "web-51", rasa_url=fake_rasa.url)
    assert code == 0, out
    assert "NOT verified" in out and number in out
    assert "138****5678" not in out and "已受理" not in out

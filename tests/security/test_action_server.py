"""The action server: reachable on loopback only, and a hand-made request gets no case data.

The action server trusts the conversation id Rasa sends (that is why only Rasa may reach it), but
never the slots: "verified" slots in a forged request unlock nothing, even from loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import rasa_sdk
import yaml

from pos_assistant.cases.records import NewCase
from pos_assistant.cases.store import CaseStore
from tests.e2e.stack import PROJECT_ROOT, RasaStack, free_port, wait_until_up
from tests.security.ports import (
    connection_refused,
    listening_addresses,
    own_non_loopback_addresses,
)

pytestmark = pytest.mark.e2e

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
VICTIM_PHONE = "13955556666"


def open_victims_case(stack: RasaStack, opener: str) -> str:
    store = CaseStore(stack.env["DATABASE_URL"])
    try:
        return store.create_case(
            NewCase(
                category="unordered_device",
                contact_phone=VICTIM_PHONE,
                description="没买过POS机却收到一台",
                channel="wechat",
                channel_user_id=opener,
                idempotency_key=uuid.uuid4().hex,
                tracking_number="SF1111111111111",
            )
        ).case_number
    finally:
        store.dispose()


def case_events(stack: RasaStack, number: str) -> list[str]:
    store = CaseStore(stack.env["DATABASE_URL"])
    try:
        return [event.kind for event in store.get_case(number).events]
    finally:
        store.dispose()


def forged_call(
    action: str,
    sender: str,
    slots: dict[str, Any],
    *,
    text: str = "查询进度",
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What Rasa would POST to /webhook, written by hand with whatever slots an attacker likes."""
    latest = {
        "text": text,
        "intent": {"name": "check_case_status", "confidence": 1.0},
        "entities": entities or [],
    }
    return {
        "next_action": action,
        "sender_id": sender,
        "version": rasa_sdk.__version__,
        "domain": DOMAIN,
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": latest,
            "events": [
                {"event": "user", "text": text, "input_channel": "wechat", "parse_data": latest}
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_event_time": None,
        },
    }


def post_to_action_server(stack: RasaStack, call: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{stack.action_url}/webhook", json=call, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def assert_no_case_data(answer: dict[str, Any], number: str) -> None:
    text = json.dumps(answer, ensure_ascii=False)
    for secret in (VICTIM_PHONE, VICTIM_PHONE[-4:], "139****6666", "SF1111111111111"):
        assert secret not in text
    names = [message.get("response") for message in answer["responses"]]
    assert "utter_case_status" not in names and "utter_case_status_with_note" not in names
    assert "utter_my_cases" not in names
    assert all(message.get("case_number") != number for message in answer["responses"])


# The senders a forger might use: any REST-like id, an id without a channel, the victim's openid
# without the channel prefix.
FORGED_SENDERS = ["rest:attacker", "attacker", "o-victim-openid"]


@pytest.mark.parametrize("sender", FORGED_SENDERS)
def test_a_forged_report_with_verified_slots_returns_no_case_data(
    rasa_stack: RasaStack, sender: str
) -> None:
    number = open_victims_case(rasa_stack, f"wx:o-victim-{uuid.uuid4().hex[:6]}")
    slots = {
        "case_lookup_outcome": "verified",
        "case_verified_number": number,
        "case_number": number,
    }
    answer = post_to_action_server(
        rasa_stack, forged_call("action_report_case_status", sender, slots)
    )
    assert_no_case_data(answer, number)
    assert [m["response"] for m in answer["responses"]] == ["utter_case_lookup_verify_again"]
    # Listing "my cases" with no number: nothing either.
    answer = post_to_action_server(rasa_stack, forged_call("action_report_case_status", sender, {}))
    assert_no_case_data(answer, number)


@pytest.mark.parametrize("sender", FORGED_SENDERS)
def test_a_forged_add_case_info_with_verified_slots_writes_nothing(
    rasa_stack: RasaStack, sender: str
) -> None:
    number = open_victims_case(rasa_stack, f"wx:o-victim-{uuid.uuid4().hex[:6]}")
    call = forged_call(
        "action_add_case_info",
        sender,
        {"case_lookup_outcome": "verified", "case_verified_number": number, "case_number": number},
        text=f"补充快递单号 SF2222222222222 到 {number}",
        entities=[
            {"entity": "case_number", "value": number},
            {"entity": "tracking_number", "value": "SF2222222222222"},
        ],
    )
    answer = post_to_action_server(rasa_stack, call)
    assert [m["response"] for m in answer["responses"]] == ["utter_case_info_verify_first"]
    assert case_events(rasa_stack, number) == ["created"]


def test_the_action_server_listens_on_loopback_only(rasa_stack: RasaStack) -> None:
    port = int(rasa_stack.action_url.rsplit(":", 1)[1])
    listening = listening_addresses(port)
    assert listening, f"nothing listens on port {port}"
    assert all(address in ("127.0.0.1", "::1") for address in listening), listening
    addresses = own_non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback address to try (the listen check passed)")
    for address in addresses:
        assert connection_refused(address, port), f"port {port} answers on {address}"


def test_the_launcher_listens_on_loopback_when_nothing_is_configured(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("ACTION_HOST",)}
    env.update({"PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})
    log = tmp_path / "actions.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(PROJECT_ROOT / ".venv" / "bin" / "python"),
                "-m",
                "pos_assistant.action_server",
                "--port",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, log, 120)
        assert listening_addresses(port) == {"127.0.0.1"}
        actions = httpx.get(f"http://127.0.0.1:{port}/actions", timeout=10).json()
        assert {"name": "action_report_case_status"} in actions  # the same actions package
    finally:
        process.terminate()
        process.wait(timeout=20)

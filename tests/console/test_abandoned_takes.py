"""A taken conversation whose agent stops replying goes back to the queue, and the customer is
told; the audit log names the agent who left it."""

from __future__ import annotations

from datetime import timedelta

from pos_assistant.cases.store import CaseStore
from pos_assistant.console.app import create_app
from pos_assistant.console.audit import AuditLog
from pos_assistant.console.context import CONTEXT
from pos_assistant.console.requeue import requeue_once
from pos_assistant.console.texts import console_texts
from pos_assistant.handoff.service import HandoffService
from pos_assistant.settings import Settings
from tests.console.server import Clock, RasaStandIn


def test_an_abandoned_take_goes_back_to_the_queue_and_the_customer_is_told(
    tmp_path, clock: Clock, rasa: RasaStandIn
) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}", clock=clock)
    settings = Settings(
        database_url="unused", rasa_url="http://127.0.0.1:9", rasa_api_token="t", environment="test"
    )
    handoffs = HandoffService(store, settings, resume=rasa.resume, send=rasa.send, fetch=rasa.fetch)
    context = create_app(settings, store=store, handoffs=handoffs, secret_key=b"k")[CONTEXT]
    store.handoffs.enqueue("web:x", channel="socketio", summary="x")
    handoffs.take("web:x", "agent1")

    clock.now += timedelta(minutes=29)
    assert requeue_once(context) == []
    handoffs.reply("web:x", "agent1", "还在吗？")  # a reply starts the 30 minutes again
    clock.now += timedelta(minutes=29)
    assert requeue_once(context) == []
    assert handoffs.open_request("web:x").taken_by == "agent1"

    clock.now += timedelta(minutes=2)
    assert requeue_once(context) == ["web:x"]
    request = handoffs.open_request("web:x")
    assert (request.status, request.taken_by) == ("waiting", None)
    notice = console_texts()["requeued_notice"]
    assert rasa.sent == [("web:x", "还在吗？", "agent1"), ("web:x", notice, "")]
    [entry] = AuditLog(store).entries(actor="system")
    assert (entry.action, entry.target, entry.detail) == ("handoff.requeue", "web:x", "agent1")
    assert requeue_once(context) == []  # once only
    store.dispose()

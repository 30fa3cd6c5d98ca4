"""Calls that carry only the new events give the action server exactly the call Rasa makes.

The Rasa server's side (pos_assistant/sent_events.py) and the action server's
(pos_assistant/event_delta.py), checked against Rasa's own `_action_call_format` (every event).
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import EntitiesAdded, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.executor import ActionExecutor

from pos_assistant import event_delta, sent_events
from pos_assistant.event_delta import MISSING_KEY, PROTOCOL_KEY, ReceivedEvents
from pos_assistant.sent_events import SentEvents, action_call, upstream_action_call_format
from tests.e2e.stack import PROJECT_ROOT
from tests.unit.tracker_states import all_events

ENDPOINT = EndpointConfig("http://127.0.0.1:1/webhook")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sent_events, "sent_events", SentEvents())
    monkeypatch.setattr(sent_events, "domain_payloads", sent_events._DomainPayloads())


def over_the_wire(body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(body))


def upstream(tracker: DialogueStateTracker, domain: Domain, name: str = "action_x") -> Any:
    return over_the_wire(upstream_action_call_format(RemoteAction(name, ENDPOINT), tracker, domain))


def send(
    server: ReceivedEvents, tracker: DialogueStateTracker, domain: Domain, name: str = "action_x"
) -> tuple[dict[str, Any], int]:
    """One call as the patched Rasa server makes it, received by `server` (full call again if
    the server lacks the base). Returns what the action runs on and how many events were sent."""
    call = action_call(RemoteAction(name, ENDPOINT), tracker, domain)
    received = over_the_wire(call)
    sent = len(received["tracker"]["events"])
    if not server.complete(received):
        call = call.with_every_event()
        received = over_the_wire(call)
        sent += len(received["tracker"]["events"])
        assert server.complete(received)
    call.answered()
    return received, sent


def test_every_call_of_a_growing_conversation_is_rasas(domain: Domain) -> None:
    events = all_events()
    server = ReceivedEvents()
    sent_counts = []
    for length in range(1, len(events) + 1):
        # Trackers of one conversation share their event objects, as Rasa's copies do.
        tracker = DialogueStateTracker.from_events("u", events[:length], domain.slots)
        received, sent = send(server, tracker, domain)
        assert received == upstream(tracker, domain), f"after {events[length - 1]}"
        sent_counts.append(sent)
    # Later calls sent only what followed the previous user message, not the whole history.
    assert sum(sent_counts) < sum(range(1, len(events) + 1)) / 2
    assert sent_counts[-1] < len(events) / 3


def test_the_latest_user_message_changed_after_it_was_sent_is_sent_again(
    domain: Domain,
) -> None:
    # Rasa changes the latest message object during its turn (EntitiesAdded,
    # DefinePrevUserUtteredFeaturization); whatever changes in it must reach the action server.
    events = all_events()[:12]
    tracker = DialogueStateTracker.from_events("u", events, domain.slots)
    server = ReceivedEvents()
    send(server, tracker, domain)
    tracker.update(EntitiesAdded([{"entity": "brand", "value": "拉卡拉"}]))
    tracker.latest_message.metadata["client_address"] = "10.0.0.1"
    received, sent = send(server, tracker, domain)
    assert received == upstream(tracker, domain)
    users = [e for e in received["tracker"]["events"] if e["event"] == "user"]
    assert users[-1]["metadata"] == {"client_address": "10.0.0.1"}
    assert sent == 2  # the latest user message (index 11) and EntitiesAdded


def test_a_temporary_trackers_events_do_not_stay(domain: Domain) -> None:
    # Forms validate on a copy with extra events, then the real tracker goes on without them.
    events = all_events()
    base = DialogueStateTracker.from_events("u", events[:20], domain.slots)
    server = ReceivedEvents()
    send(server, base, domain)
    temporary = DialogueStateTracker.from_events(
        "u", [*events[:20], SlotSet("brand", "临时")], domain.slots
    )
    send(server, temporary, domain, "validate_open_case_form")
    real = DialogueStateTracker.from_events("u", events, domain.slots)
    received, _ = send(server, real, domain)
    assert received == upstream(real, domain)


def test_a_server_without_the_earlier_events_gets_every_event(domain: Domain) -> None:
    events = all_events()
    send(ReceivedEvents(), DialogueStateTracker.from_events("u", events[:20], domain.slots), domain)
    tracker = DialogueStateTracker.from_events("u", events, domain.slots)
    call = over_the_wire(action_call(RemoteAction("action_x", ENDPOINT), tracker, domain))
    assert call[PROTOCOL_KEY]["base"] is not None
    restarted = ReceivedEvents()
    assert not restarted.complete(call)
    received, _ = send(restarted, tracker, domain)
    assert received == upstream(tracker, domain)


def test_another_base_than_the_kept_one_is_missing(domain: Domain) -> None:
    events = all_events()
    server = ReceivedEvents()
    tracker = DialogueStateTracker.from_events("u", events, domain.slots)
    send(server, tracker, domain)
    call = over_the_wire(action_call(RemoteAction("action_x", ENDPOINT), tracker, domain))
    call[PROTOCOL_KEY]["base"] = "someone-elses-call"
    assert not server.complete(call)


def test_a_call_as_rasa_makes_it_is_run_as_it_is(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("u", all_events(), domain.slots)
    call = upstream(tracker, domain)
    assert ReceivedEvents().complete(call)
    assert call == upstream(tracker, domain)


def test_the_action_appending_to_its_events_leaves_the_kept_ones_alone(domain: Domain) -> None:
    events = all_events()
    server = ReceivedEvents()
    received, _ = send(
        server, DialogueStateTracker.from_events("u", events[:20], domain.slots), domain
    )
    received["tracker"]["events"].append({"event": "slot", "name": "brand", "value": "x"})
    tracker = DialogueStateTracker.from_events("u", events, domain.slots)
    again, _ = send(server, tracker, domain)
    assert again == upstream(tracker, domain)


def test_kept_events_are_bounded_least_recent_first() -> None:
    server = ReceivedEvents(max_events=10)
    for sender in ("a", "b", "c"):
        call = {
            "sender_id": sender,
            "tracker": {"events": [{"event": "action", "name": "x"}] * 4},
            PROTOCOL_KEY: {"id": f"{sender}1", "base": None, "keep": 0},
        }
        assert server.complete(call)
    assert len(server) == 2 and server.events == 8
    late = {
        "sender_id": "a",
        "tracker": {"events": []},
        PROTOCOL_KEY: {"id": "a2", "base": "a1", "keep": 4},
    }
    assert not server.complete(late)  # "a" was forgotten first


def _call(sender: str, call_id: str, events: int, base: str | None = None, keep: int = 0) -> Any:
    return {
        "sender_id": sender,
        "tracker": {"events": [{"event": "action", "name": "x"}] * events},
        PROTOCOL_KEY: {"id": call_id, "base": base, "keep": keep},
    }


def test_each_conversation_keeps_its_latest_calls_only() -> None:
    server = ReceivedEvents(max_events=100, calls_per_conversation=2)
    assert server.complete(_call("a", "a1", 3))
    assert server.complete(_call("a", "a2", 1, base="a1", keep=3))
    assert server.complete(_call("a", "a3", 1, base="a2", keep=4))
    assert len(server) == 1 and server.events == 4 + 5
    assert not server.complete(_call("a", "a4", 1, base="a1", keep=3))  # a1 was dropped
    assert server.complete(_call("a", "a4", 1, base="a2", keep=4))


def test_a_call_it_cannot_complete_or_keep_leaves_the_order_alone() -> None:
    server = ReceivedEvents(max_events=10)
    assert server.complete(_call("a", "a1", 4))
    assert server.complete(_call("b", "b1", 4))
    assert not server.complete(_call("a", "a2", 1, base="unknown", keep=1))
    assert server.complete(_call("a", "a2", 11))  # run, but too long to keep
    assert server.events == 8
    assert server.complete(_call("c", "c1", 4))  # "a" is still the least recently used
    assert not server.complete(_call("a", "a3", 0, base="a1", keep=4))
    assert server.complete(_call("b", "b2", 0, base="b1", keep=4))


def test_a_conversation_whose_calls_outgrow_the_bound_keeps_its_latest() -> None:
    server = ReceivedEvents(max_events=10)
    assert server.complete(_call("b", "b1", 2))
    assert server.complete(_call("a", "a1", 6))
    assert server.complete(_call("a", "a2", 0, base="a1", keep=6))  # a's calls: 12 events
    assert len(server) == 2 and server.events == 8  # b kept, and a's latest call
    assert server.complete(_call("a", "a3", 1, base="a2", keep=6))  # still builds on it
    assert not server.complete(_call("a", "a4", 0, base="a1", keep=6))


def test_sent_events_are_bounded_least_recent_first() -> None:
    memory = SentEvents(max_events=10)
    four = [SlotSet("brand", "x") for _ in range(4)]
    memory.put("a", "a1", four)
    memory.put("b", "b1", four)
    assert memory.get("a") is not None  # "a" is now the most recently used
    memory.put("c", "c1", four)
    assert memory.get("b") is None and len(memory) == 2
    a = memory.get("a")
    assert a is not None and a.call_id == "a1" and a.events is four
    memory.put("a", "a2", [SlotSet("brand", "x") for _ in range(11)])
    assert memory.get("a") is None and len(memory) == 1  # too long: the older one is gone too
    memory.forget("c")
    assert memory.get("c") is None and len(memory) == 0


def test_the_installed_executor_runs_actions_on_the_full_list_or_asks_again(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ActionExecutor, "run", ActionExecutor.run)
    monkeypatch.delattr(ActionExecutor, "_pos_assistant_event_delta", raising=False)
    monkeypatch.setattr(event_delta, "received", ReceivedEvents())
    event_delta.install()
    executor = ActionExecutor()
    seen: list[list[dict[str, Any]]] = []

    # A function, not an Action subclass: test_action_registry registers every subclass.
    def record_events(dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        seen.append(list(tracker.events))
        return []

    executor.register_function("action_record_events", record_events)
    events = all_events()
    for length, name in ((20, "action_record_events"), (len(events), "action_record_events")):
        tracker = DialogueStateTracker.from_events("u", events[:length], domain.slots)
        call = action_call(RemoteAction(name, ENDPOINT), tracker, domain)
        answer = asyncio.run(executor.run(over_the_wire(call)))
        assert MISSING_KEY not in answer
        call.answered()
        assert seen[-1] == upstream(tracker, domain)["tracker"]["events"]
    # A server that forgot: the action is not run, the answer asks for every event.
    monkeypatch.setattr(event_delta, "received", ReceivedEvents())
    tracker.update(SlotSet("brand", "x"))
    call = action_call(RemoteAction("action_record_events", ENDPOINT), tracker, domain)
    answer = asyncio.run(executor.run(over_the_wire(call)))
    assert answer[MISSING_KEY] is True and len(seen) == 2


def test_the_request_sends_every_event_when_the_server_asks(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ReceivedEvents()
    bodies: list[dict[str, Any]] = []  # as the action runs on them
    sent_counts: list[int] = []  # events in each request

    async def fake_request(
        self: EndpointConfig,
        method: str,
        subpath: Any,
        content_type: Any,
        compress: bool,
        **kw: Any,
    ) -> Any:
        body = over_the_wire(kw["json"])
        sent_counts.append(len(body["tracker"]["events"]))
        bodies.append(body)
        if not server.complete(body):
            return event_delta.missing_answer()
        return {"events": [], "responses": []}

    monkeypatch.setattr(sent_events.action_client, "request", fake_request)
    events = all_events()
    first = DialogueStateTracker.from_events("u", events[:20], domain.slots)
    body = action_call(RemoteAction("action_x", ENDPOINT), first, domain)
    asyncio.run(sent_events._request(ENDPOINT, "post", json=body))
    server = ReceivedEvents()  # the action server restarted
    tracker = DialogueStateTracker.from_events("u", events, domain.slots)
    body = action_call(RemoteAction("action_x", ENDPOINT), tracker, domain)
    answer = asyncio.run(sent_events._request(ENDPOINT, "post", json=body))
    assert answer == {"events": [], "responses": []}
    assert sent_counts[-2] < sent_counts[-1] == len(events)
    assert bodies[-1] == upstream(tracker, domain)  # the protocol key was taken by the server
    # And the next call builds on the full one again.
    tracker.update(SlotSet("brand", "x"))
    body = action_call(RemoteAction("action_x", ENDPOINT), tracker, domain)
    asyncio.run(sent_events._request(ENDPOINT, "post", json=body))
    assert sent_counts[-1] < len(events) / 3
    assert bodies[-1] == upstream(tracker, domain)


def test_two_rasa_servers_taking_turns_each_build_on_their_own_calls(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each Rasa process has its own event objects (read from the shared tracker store) and its
    # own memory of what it sent; one action server answers both.
    server = ReceivedEvents()
    processes = [(SentEvents(), all_events()), (SentEvents(), copy.deepcopy(all_events()))]
    total = len(processes[0][1])
    retries = 0
    for step, length in enumerate(range(4, total + 1, 4)):
        memory, events = processes[step % 2]
        monkeypatch.setattr(sent_events, "sent_events", memory)
        tracker = DialogueStateTracker.from_events("u", events[:length], domain.slots)
        call = action_call(RemoteAction("action_x", ENDPOINT), tracker, domain)
        received = over_the_wire(call)
        if not server.complete(received):
            retries += 1
            call = call.with_every_event()
            received = over_the_wire(call)
            assert server.complete(received)
        call.answered()
        assert received == upstream(tracker, domain)
    assert retries == 0  # the first call of each process had nothing to build on


def test_the_domain_is_sent_until_delivered_then_named_by_its_digest(domain: Domain) -> None:
    events = all_events()
    server = ReceivedEvents()
    wire: list[dict[str, Any]] = []
    for length in (5, 10, 15):
        tracker = DialogueStateTracker.from_events("u", events[:length], domain.slots)
        call = action_call(RemoteAction("action_x", ENDPOINT), tracker, domain)
        wire.append(over_the_wire(call))
        received = copy.deepcopy(wire[-1])
        assert server.complete(received)
        call.answered()
        assert received == upstream(tracker, domain)
    assert "domain" in wire[0]
    assert all("domain" not in body for body in wire[1:])  # about 40 KB less per call
    assert len({body[PROTOCOL_KEY]["domain"] for body in wire}) == 1

    # A restarted action server asks for it once; the call is then made with it.
    restarted = ReceivedEvents()
    tracker = DialogueStateTracker.from_events("u", events[:20], domain.slots)
    call = action_call(RemoteAction("action_x", ENDPOINT), tracker, domain)
    assert not restarted.complete(over_the_wire(call))
    again = over_the_wire(call.with_every_event())
    assert "domain" in again and restarted.complete(again)
    assert again == upstream(tracker, domain)


def test_another_domain_is_sent_again(domain: Domain) -> None:
    server = ReceivedEvents()
    tracker = DialogueStateTracker.from_events("u", all_events()[:5], domain.slots)
    send(server, tracker, domain)
    retrained = Domain.from_dict({**domain.as_dict(), "actions": [*domain.user_actions, "a_new"]})
    call = action_call(RemoteAction("action_x", ENDPOINT), tracker, retrained)
    assert "domain" in call  # a new digest: not delivered yet
    received = over_the_wire(call)
    assert server.complete(received)
    assert received == upstream(tracker, retrained)


def test_a_call_naming_an_unknown_domain_is_not_run() -> None:
    server = ReceivedEvents()
    call = {
        "next_action": "action_x",
        "sender_id": "u",
        "tracker": {"events": []},
        PROTOCOL_KEY: {"id": "c1", "base": None, "keep": 0, "domain": "f" * 64},
    }
    assert not server.complete(call)

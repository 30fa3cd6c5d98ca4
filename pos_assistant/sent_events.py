"""The Rasa server sends the action server only the events it has not sent it yet.

Rasa 3.6 encodes every event of the session into each custom-action call
(`RemoteAction._action_call_format`: `tracker.current_state(EventVerbosity.ALL)`), several calls
a turn, and the action server decodes them all again: the largest part of what a late turn of a
long conversation costs more than an early one (docs/benchmarks.md). The protocol and the action
server's side are in pos_assistant/event_delta.py.

For each conversation this remembers the event objects of the latest call the action server
answered and that call's id. The next call keeps the longest run of the same event objects
(identity: events are not copied between a tracker and its copies, nor between turns by the
tracker cache), but never past the latest user message: Rasa changes that one after it was
sent (`EntitiesAdded`, `DefinePrevUserUtteredFeaturization` change `tracker.latest_message`),
so it and everything after it are always encoded again. The rest of the body is Rasa's own.

If the action server answers that it lacks those events, the same call is sent again with every
event (`EndpointConfig.request` below); so a restarted action server, several action servers,
or several Rasa servers on one conversation only cost a full call now and then.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from pos_assistant import action_client
from pos_assistant.bounded_lru import BoundedLRU
from pos_assistant.event_delta import DOMAIN_KEY, MISSING_KEY, PROTOCOL_KEY, domain_digest

# Event objects only (they are kept by the tracker cache anyway): the same bound as its.
MAX_REMEMBERED_EVENTS = 20_000

_INSTALLED_MARK = "_pos_assistant_sent_events"

# Rasa's own body (every event), for the unit tests that compare with it.
upstream_action_call_format = RemoteAction._action_call_format


@dataclass(frozen=True)
class _Sent:
    call_id: str
    events: list[Event]


class SentEvents:
    """Each conversation's events in the latest call the action server answered."""

    def __init__(self, max_events: int = MAX_REMEMBERED_EVENTS) -> None:
        # A conversation with more events than that is not remembered: it gets full calls.
        self._sent: BoundedLRU[str, _Sent] = BoundedLRU(max_events, lambda sent: len(sent.events))

    def get(self, sender_id: str) -> _Sent | None:
        return self._sent.get(sender_id)

    def put(self, sender_id: str, call_id: str, events: list[Event]) -> None:
        self._sent.put(sender_id, _Sent(call_id, events))

    def forget(self, sender_id: str) -> None:
        self._sent.pop(sender_id)

    def __len__(self) -> int:
        return len(self._sent)


sent_events = SentEvents()


def unchanged_prefix(sent: list[Event], events: list[Event]) -> int:
    """How many leading events are the very objects already sent (at most up to, not
    including, the latest user message, which Rasa may still change)."""
    limit = min(len(sent), len(events))
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            limit = min(limit, index)
            break
    same = 0
    for old, new in zip(itertools.islice(sent, limit), events, strict=False):
        if old is not new:
            break
        same += 1
    return same


class _DomainPayloads:
    """Each loaded domain's dict and digest, computed once (a model is loaded for hours)."""

    MAX_DOMAINS = 4  # a server holds one model; a few while one is replaced

    def __init__(self) -> None:
        self._payloads: BoundedLRU[int, tuple[Any, dict[str, Any], str]] = BoundedLRU(
            self.MAX_DOMAINS, lambda _payload: 1
        )
        # Digests an action server has answered a call with that domain for: later calls only
        # name it (another action server, or a restarted one, asks for it once).
        self.delivered: set[str] = set()

    def get(self, domain: Any) -> tuple[dict[str, Any], str]:
        known = self._payloads.get(id(domain))
        if known is None or known[0] is not domain:
            as_dict = domain.as_dict()
            known = (domain, as_dict, domain_digest(as_dict))
            self._payloads.put(id(domain), known)  # the domain is held: its id is not reused
        return known[1], known[2]

    def delivered_to_the_action_server(self, digest: str) -> None:
        if len(self.delivered) >= self.MAX_DOMAINS:
            self.delivered.clear()  # older models' digests: at worst sent once more
        self.delivered.add(digest)


domain_payloads = _DomainPayloads()


class ActionCall(dict):
    """The JSON body of one call to the action server (Rasa's, with only the new events and the
    domain named by its digest), that can make the same call with every event and the domain,
    and be told that the server has answered it."""

    def __init__(
        self,
        body: dict[str, Any],
        sender_id: str,
        call_id: str,
        events: list[Event],
        domain: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(body)
        self.sender_id = sender_id
        self.call_id = call_id
        self.events = events
        self.domain = domain

    def with_every_event(self) -> ActionCall:
        body = dict(self)
        body["tracker"] = {**self["tracker"], "events": [event.as_dict() for event in self.events]}
        call_id = uuid.uuid4().hex
        body[PROTOCOL_KEY] = {"id": call_id, "base": None, "keep": 0}
        if self.domain is not None:
            body["domain"] = self.domain
            body[PROTOCOL_KEY][DOMAIN_KEY] = self[PROTOCOL_KEY][DOMAIN_KEY]
        return ActionCall(body, self.sender_id, call_id, self.events, self.domain)

    def answered(self) -> None:
        sent_events.put(self.sender_id, self.call_id, self.events)
        if "domain" in self and self.domain is not None:
            domain_payloads.delivered_to_the_action_server(self[PROTOCOL_KEY][DOMAIN_KEY])


def action_call(action: RemoteAction, tracker: DialogueStateTracker, domain: Any) -> ActionCall:
    """`RemoteAction._action_call_format`, with only the events the action server lacks."""
    events = list(tracker.events)
    sent = sent_events.get(tracker.sender_id)
    keep = unchanged_prefix(sent.events, events) if sent is not None else 0
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in events[keep:]]
    call_id = uuid.uuid4().hex
    body: dict[str, Any] = {
        "next_action": action._name,
        "sender_id": tracker.sender_id,
        "tracker": state,
        "version": rasa.__version__,
    }
    body[PROTOCOL_KEY] = {
        "id": call_id,
        "base": sent.call_id if sent is not None and keep else None,
        "keep": keep,
    }
    needs_domain = domain.does_custom_action_explicitly_need_domain(action.name())
    if action._is_selective_domain_enabled() and not needs_domain:
        return ActionCall(body, tracker.sender_id, call_id, events)
    # The domain (about 40 KB of JSON) is named by its digest; the action server keeps it.
    domain_dict, digest = domain_payloads.get(domain)
    body[PROTOCOL_KEY][DOMAIN_KEY] = digest
    if digest not in domain_payloads.delivered:
        body["domain"] = domain_dict
    return ActionCall(body, tracker.sender_id, call_id, events, domain_dict)


_original_request = EndpointConfig.request


async def _request(
    self: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    call = kwargs.get("json")
    if not isinstance(call, ActionCall):
        return await _original_request(self, method, subpath, content_type, compress, **kwargs)
    send = _original_request if self.cafile else action_client.request
    response = await send(self, method, subpath, content_type, compress, **kwargs)
    if isinstance(response, dict) and response.get(MISSING_KEY):
        call = call.with_every_event()
        kwargs["json"] = call
        response = await send(self, method, subpath, content_type, compress, **kwargs)
    call.answered()
    return response


def _action_call_format(
    self: RemoteAction, tracker: DialogueStateTracker, domain: Any
) -> dict[str, Any]:
    return action_call(self, tracker, domain)


def install() -> None:
    """Installs the delta calls (idempotent)."""
    if getattr(RemoteAction, _INSTALLED_MARK, False):
        return
    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]
    EndpointConfig.request = _request  # type: ignore[method-assign]
    setattr(RemoteAction, _INSTALLED_MARK, True)


def installed() -> bool:
    return bool(getattr(RemoteAction, _INSTALLED_MARK, False))

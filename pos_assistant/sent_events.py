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

from pos_assistant.bounded_lru import BoundedLRU
from pos_assistant.event_delta import MISSING_KEY, PROTOCOL_KEY

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


class ActionCall(dict):
    """The JSON body of one call to the action server (Rasa's, with only the new events), that
    can make the same call with every event and be told that the server has answered it."""

    def __init__(
        self, body: dict[str, Any], sender_id: str, call_id: str, events: list[Event]
    ) -> None:
        super().__init__(body)
        self.sender_id = sender_id
        self.call_id = call_id
        self.events = events

    def with_every_event(self) -> ActionCall:
        body = dict(self)
        body["tracker"] = {**self["tracker"], "events": [event.as_dict() for event in self.events]}
        call_id = uuid.uuid4().hex
        body[PROTOCOL_KEY] = {"id": call_id, "base": None, "keep": 0}
        return ActionCall(body, self.sender_id, call_id, self.events)

    def answered(self) -> None:
        sent_events.put(self.sender_id, self.call_id, self.events)


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
    needs_domain = domain.does_custom_action_explicitly_need_domain(action.name())
    if not action._is_selective_domain_enabled() or needs_domain:
        body["domain"] = domain.as_dict()
    body[PROTOCOL_KEY] = {
        "id": call_id,
        "base": sent.call_id if sent is not None and keep else None,
        "keep": keep,
    }
    return ActionCall(body, tracker.sender_id, call_id, events)


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
    response = await _original_request(self, method, subpath, content_type, compress, **kwargs)
    if not isinstance(call, ActionCall):
        return response
    if isinstance(response, dict) and response.get(MISSING_KEY):
        call = call.with_every_event()
        kwargs["json"] = call
        response = await _original_request(self, method, subpath, content_type, compress, **kwargs)
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

"""The action server keeps each conversation's events; the Rasa server sends only the new ones.

Rasa 3.6 sends the action server every event of the session, as JSON, on every custom-action
call (`RemoteAction._action_call_format`, `EventVerbosity.ALL`), several calls a turn: encoding
them in the Rasa server and decoding them in the action server cost more the longer the
conversation (docs/benchmarks.md). Our actions do read old events (the summary for an agent,
the reminder given once, the interrupted form to resume), so they cannot simply be cut off.

The protocol, between pos_assistant/sent_events.py (Rasa server) and this module (action
server), in one extra key of the call's JSON body:

    "pos_events": {"id": "<this call>", "base": "<an earlier call>" | null, "keep": <int>}

With `base` null the call carries every event, as Rasa's. With `base`, the call's
`tracker.events` are only the events after the first `keep` events of the call `base`, which
the action server kept (the last few calls of each conversation): it rebuilds the full list and
runs the action on it as if Rasa had sent it. When it does not have `base` (restarted, another
action server, forgotten), it answers `{"pos_events_missing": true}` without running the
action, and the Rasa server sends the call again with every event. A call without the key (Rasa
without our patches) is run as it is.

The domain (about 40 KB of JSON, the same on every call of a loaded model) is sent the same
way: the protocol key names it by its digest (`"domain": "<sha256>"`) and the call carries it
only in the full call that follows a "missing" answer, after which the action server keeps it.

The kept lists are bounded by their total number of events (least recently used conversations
are forgotten first; forgetting only costs one full call).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from pos_assistant.bounded_lru import BoundedLRU

PROTOCOL_KEY = "pos_events"
MISSING_KEY = "pos_events_missing"
# In the protocol key: the digest of the domain, which the call carries only when the action
# server asked for it (the domain is the same for every call of a loaded model).
DOMAIN_KEY = "domain"
# Domains kept: one per model the Rasa servers have loaded.
MAX_KEPT_DOMAINS = 4
# Each event is a dict of about 1 KB (user messages with their parse data): at most ~20 MB.
MAX_KEPT_EVENTS = 20_000
# Calls kept per conversation (their lists share the event dicts).
KEPT_CALLS = 4

_INSTALLED_MARK = "_pos_assistant_event_delta"

Event = dict[str, Any]


class ReceivedEvents:
    """The events of each conversation's latest calls, by the call's id.

    A few calls per conversation, not only the latest: Rasa servers behind one address take a
    conversation's turns in turn, and each builds on the call it made itself.
    """

    def __init__(
        self, max_events: int = MAX_KEPT_EVENTS, calls_per_conversation: int = KEPT_CALLS
    ) -> None:
        self._max_events = max_events
        self._calls_per_conversation = calls_per_conversation
        self._calls: BoundedLRU[str, OrderedDict[str, list[Event]]] = BoundedLRU(
            max_events, lambda calls: sum(len(kept) for kept in calls.values())
        )
        self._domains: BoundedLRU[str, dict[str, Any]] = BoundedLRU(
            MAX_KEPT_DOMAINS, lambda _domain: 1
        )

    def complete(self, action_call: dict[str, Any]) -> bool:
        """Puts the whole event list into a call that carries only the new events.

        False if the call builds on events this server does not have (the call is unchanged
        then, apart from the protocol key being removed).
        """
        delta = action_call.pop(PROTOCOL_KEY, None)
        if delta is None:
            return True  # a call as Rasa makes it: every event is in it
        tracker = action_call.get("tracker")
        sender_id = action_call.get("sender_id")
        if not (
            isinstance(delta, dict)
            and isinstance(tracker, dict)
            and isinstance(sender_id, str)
            and isinstance(delta.get("id"), str)
        ):
            return False
        if not self._complete_domain(action_call, delta.get(DOMAIN_KEY)):
            return False
        events = tracker.get("events") or []
        base, keep = delta.get("base"), delta.get("keep")
        if base is None:
            full = list(events)
        else:
            kept = (self._calls.peek(sender_id) or {}).get(base)
            if kept is None or not isinstance(keep, int) or not 0 <= keep <= len(kept):
                return False
            full = kept[:keep] + list(events)
        self._put(sender_id, delta["id"], full)
        # The action's own list: rasa_sdk appends to `tracker.events` (Tracker.add_slots).
        tracker["events"] = list(full)
        return True

    def _complete_domain(self, action_call: dict[str, Any], digest: Any) -> bool:
        """Keeps a domain sent with its digest; puts a kept one into a call that names it.

        The same dict is handed to every call (rasa_sdk and our actions only read it).
        """
        if digest is None:
            return True  # the call carries the domain, or no domain, as Rasa sends it
        if not isinstance(digest, str):
            return False
        sent = action_call.get("domain")
        if isinstance(sent, dict):
            self._domains.put(digest, sent)
            return True
        kept = self._domains.get(digest)
        if kept is None:
            return False
        action_call["domain"] = kept
        return True

    def _put(self, sender_id: str, call_id: str, events: list[Event]) -> None:
        if len(events) > self._max_events:
            return
        calls = self._calls.pop(sender_id) or OrderedDict()  # out while it changes
        calls[call_id] = events
        while len(calls) > self._calls_per_conversation:
            calls.popitem(last=False)
        if not self._calls.put(sender_id, calls):  # the most recently used conversation now
            # Its kept calls together outgrow the bound: keep only the latest (within it, see
            # above), so that the next call still builds on it instead of every later call of
            # a very long conversation being sent twice.
            self._calls.put(sender_id, OrderedDict([(call_id, events)]))

    def forget(self, sender_id: str) -> None:
        self._calls.pop(sender_id)

    def __len__(self) -> int:
        return len(self._calls)

    @property
    def events(self) -> int:
        """Events kept, counted once per call that holds them (an upper bound)."""
        return self._calls.total


received = ReceivedEvents()


def domain_digest(domain: dict[str, Any]) -> str:
    """Names a domain's content (the same content gives the same digest in any process)."""
    encoded = json.dumps(domain, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def missing_answer() -> dict[str, Any]:
    """The answer to a call whose earlier events this server does not have."""
    return {"events": [], "responses": [], MISSING_KEY: True}


def install() -> None:
    """Makes the action server complete calls before running them (idempotent).

    Wraps whatever `ActionExecutor.run` is at the time (e.g. pos_assistant/action_threads.py's
    thread hop): the kept lists are read and written on the server's event loop only.
    """
    from rasa_sdk.executor import ActionExecutor

    if getattr(ActionExecutor, _INSTALLED_MARK, False):
        return
    previous_run = ActionExecutor.run

    async def run(self: ActionExecutor, action_call: dict[str, Any]) -> Any:
        if not received.complete(action_call):
            return missing_answer()
        return await previous_run(self, action_call)

    ActionExecutor.run = run  # type: ignore[method-assign]
    setattr(ActionExecutor, _INSTALLED_MARK, True)


def installed() -> bool:
    from rasa_sdk.executor import ActionExecutor

    return bool(getattr(ActionExecutor, _INSTALLED_MARK, False))

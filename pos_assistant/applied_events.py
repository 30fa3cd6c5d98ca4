"""`DialogueStateTracker.applied_events()` continued from the previous call's result.

Rasa 3.6.21 walks every event of the session to drop reverted events and undone loop turns,
and calls it several times per prediction (every policy's dialogue states), so a turn costs more
the longer the conversation. The walk is a left fold over the events that only looks at the
applied events so far and at the names of the loops activated anywhere in the events: this
module keeps the fold per conversation and continues it over new events, when the events walked
so far are, object for object, the start of the tracker's events and no new loop name appeared.
Like pos_assistant/past_states.py it also keeps the fold at the end of the events read from the
tracker store, where the next turn continues. The loop body is Rasa's, line for line;
tests/unit/test_applied_events.py compares with Rasa's on every prefix of a conversation.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant.past_states import STORED_EVENTS_ATTRIBUTE

MAX_CONVERSATIONS = 256
_INSTALLED_MARK = "_pos_assistant_incremental_applied_events"


@dataclass
class _Walk:
    """Rasa's walk, stopped after `events`, with the loop names it used (those of all events
    then) and the loop names seen in `events`."""

    loop_names: set[str]
    events: list[Event] = field(default_factory=list)
    seen_names: set[str] = field(default_factory=set)
    applied: list[Event] = field(default_factory=list)

    def branch(self) -> _Walk:
        return _Walk(
            set(self.loop_names), list(self.events), set(self.seen_names), list(self.applied)
        )

    def continues(self, events: list[Event]) -> bool:
        """Whether walking on over the rest of `events` gives Rasa's walk of `events`."""
        if not _starts(self.events, events):
            return False
        return self.seen_names | _loop_names(events[len(self.events) :]) == self.loop_names


_walks: OrderedDict[tuple, tuple[_Walk, _Walk | None]] = OrderedDict()


def _starts(walked: list[Event], events: list[Event]) -> bool:
    return len(walked) <= len(events) and all(a is b for a, b in zip(walked, events, strict=False))


def _loop_names(events: list[Event]) -> set[str]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def _walk_on(tracker: DialogueStateTracker, walk: _Walk, event: Event) -> None:
    """Rasa's loop body of `applied_events` for one event."""
    applied = walk.applied
    if isinstance(event, (Restarted, SessionStarted)):
        walk.applied = []
    elif isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied)
        tracker._undo_till_previous(ActionExecuted, applied)
    elif (
        isinstance(event, ActionExecuted)
        and event.action_name in walk.loop_names
        and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
    ):
        tracker._undo_till_previous_loop_execution(event.action_name, applied)
    else:
        applied.append(event)
    walk.events.append(event)
    if isinstance(event, ActiveLoop) and event.name:
        walk.seen_names.add(event.name)


def applied_events(tracker: DialogueStateTracker) -> list[Event]:
    """The same list as Rasa's `DialogueStateTracker.applied_events()`."""
    events = list(tracker.events)
    key = (tracker.sender_id, tracker.is_rule_tracker)
    latest, stored = _walks.pop(key, (None, None))
    if latest is not None and latest.continues(events):
        walk = latest
    elif stored is not None and stored.continues(events):
        walk = stored.branch()
    else:
        walk = _Walk(loop_names=_loop_names(events))
    stored_end = getattr(tracker, STORED_EVENTS_ATTRIBUTE, None)
    for index in range(len(walk.events), len(events)):
        if index == stored_end:
            stored = walk.branch()
        _walk_on(tracker, walk, events[index])
    if stored_end == len(events):
        stored = walk.branch()
    _walks[key] = (walk, stored)
    while len(_walks) > MAX_CONVERSATIONS:
        _walks.popitem(last=False)
    return list(walk.applied)


original_applied_events = DialogueStateTracker.applied_events


def install() -> None:
    """Makes `DialogueStateTracker.applied_events()` continue the previous walk (idempotent)."""
    if getattr(DialogueStateTracker, _INSTALLED_MARK, False):
        return
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    setattr(DialogueStateTracker, _INSTALLED_MARK, True)

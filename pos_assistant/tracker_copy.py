"""A copy of a Rasa tracker without replaying its events.

Rasa 3.6's `DialogueStateTracker.copy()` builds a new tracker and replays every event of the
session into it (`travel_back_in_time(inf)`); Rasa copies the tracker before every action it runs,
so each copy costs more the longer the conversation. The state that replay recreates is a fixed
set of attributes ("current state of the tracker - MUST be re-creatable by processing all the
events", rasa/shared/core/trackers.py): the slots, paused, the follow-up action, the latest
action, user message and bot message, and the active loop. `clone_tracker` copies exactly those
(the mutable ones deeply enough that changing the copy leaves the original alone) onto a tracker
made by `init_copy()`, as Rasa's copy starts from.

The one state Rasa changes without an event is the follow-up action (the processor clears it
before running it). Replay would bring it back, so in that case `copy()` keeps Rasa's replay.

The copy itself is cheap too: `init_copy()` copies every slot (`copy.copy`) only for `_reset()` to
set them back, and the clone then copies them again with their values. A clone of a plain
`DialogueStateTracker` starts without slots and copies each slot once, the way `copy.copy` does
for these plain classes (a new instance with the same `__dict__`). Those copies were about a
tenth of a busy server's time.

Forms build a temporary tracker the same way on every validation (`FormAction._temporary_tracker`:
every event replayed, then the form's own events), and so does slot extraction on every message
before `action_validate_slot_mappings` (`ActionExtractSlots._execute_validation_action`); both
are a clone plus those events too.
"""

from __future__ import annotations

import copy
import functools
import operator
from typing import Any

from rasa.core.actions.action import ActionExtractSlots
from rasa.core.actions.forms import FormAction
from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    LoopInterrupted,
    Restarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import AnySlotDict, DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

# Events that leave the follow-up action alone when applied (ActionExecuted and UserUttered
# clear it; others set it, reset the tracker or replay it).
_FOLLOWUP_NEUTRAL = (
    BotUttered,
    SlotSet,
    ActiveLoop,
    LoopInterrupted,
    DefinePrevUserUtteredFeaturization,
    ActionExecutionRejected,  # marks the active loop rejected, nothing else
)
_FOLLOWUP_CLEARING = (ActionExecuted, UserUttered)

_INSTALLED_MARK = "_pos_assistant_fast_copy"


@functools.lru_cache(maxsize=64)
def _copied_as_plain_object(cls: type) -> bool:
    """Whether `copy.copy` copies instances of `cls` as a new instance with the same __dict__:
    no copy or pickling hooks and no named __slots__ (Rasa's slot types: ABC's are empty)."""
    hooks = ("__copy__", "__getstate__", "__setstate__")
    return (
        not any(hasattr(cls, hook) for hook in hooks)
        and not any(klass.__dict__.get("__slots__") for klass in cls.__mro__)
        and cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
    )


def copy_slot(slot: Slot) -> Slot:
    """`copy.copy(slot)`, without the copy module's generic path where it gives the same."""
    cls = type(slot)
    if not _copied_as_plain_object(cls):
        return copy.copy(slot)
    twin = cls.__new__(cls)
    twin.__dict__.update(slot.__dict__)
    return twin


def _empty_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """`tracker.init_copy()` without its slots (the clone sets them)."""
    if type(tracker) is not DialogueStateTracker:
        return tracker.init_copy()  # a subclass may copy more (training's cached states)
    return DialogueStateTracker(
        tracker.sender_id or DEFAULT_SENDER_ID,
        None,
        tracker._max_event_history,
        is_rule_tracker=tracker.is_rule_tracker,
    )


def clone_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A tracker in the state replaying `tracker.events` into `tracker.init_copy()` gives.

    Valid when the tracker's state came from its events alone (see `replay_equivalent`).
    """
    clone = _empty_copy(tracker)
    clone.events = clone._create_events(list(tracker.events))
    clone.slots = {name: copy_slot(slot) for name, slot in tracker.slots.items()}
    clone._paused = tracker._paused
    clone.followup_action = tracker.followup_action
    clone.latest_action = copy.copy(tracker.latest_action)
    clone.latest_message = tracker.latest_message
    clone.latest_bot_utterance = tracker.latest_bot_utterance
    clone.active_loop = copy.copy(tracker.active_loop)
    return clone


def replay_equivalent(tracker: DialogueStateTracker) -> bool:
    """Whether the state is what replaying the events gives (follow-up action not cleared by
    hand, slots of the domain): checked on the last events only."""
    if isinstance(tracker.slots, AnySlotDict):
        return False
    for event in reversed(tracker.events):
        if isinstance(event, _FOLLOWUP_CLEARING):
            return tracker.followup_action is None
        if not isinstance(event, _FOLLOWUP_NEUTRAL):
            return False  # a follow-up, a reset or a replay: let Rasa replay
    return False


_replaying_copy = DialogueStateTracker.copy
_type_name = operator.attrgetter("type_name")
_RESTART_NAMES = frozenset(cls.type_name for cls in (Restarted, *all_subclasses(Restarted)))


def _copy(self: DialogueStateTracker) -> DialogueStateTracker:
    if replay_equivalent(self):
        return clone_tracker(self)
    return _replaying_copy(self)


_replaying_temporary_tracker = FormAction._temporary_tracker


def replayed_with(
    tracker: DialogueStateTracker, events: list[Event], domain: Domain
) -> DialogueStateTracker:
    """`DialogueStateTracker.from_events(sender, tracker.events_after_latest_restart() + events,
    slots=domain.slots)`, by a clone where that is the same."""
    same_slots = list(tracker.slots) == [slot.name for slot in domain.slots]
    # By type name, in C: an isinstance check per event (ABCs) was a linear cost per turn.
    restarted = not _RESTART_NAMES.isdisjoint(map(_type_name, tracker.events))
    if not same_slots or restarted or not replay_equivalent(tracker):
        return DialogueStateTracker.from_events(
            tracker.sender_id, tracker.events_after_latest_restart() + events, slots=domain.slots
        )
    clone = clone_tracker(tracker)
    clone._max_event_history = None
    clone.is_rule_tracker = False
    for event in events:
        clone.update(event)
    return clone


def _temporary_tracker(
    self: FormAction,
    current_tracker: DialogueStateTracker,
    additional_events: list[Event],
    domain: Domain,
) -> DialogueStateTracker:
    # Rasa's, line for line, with `replayed_with` for the replay.
    events = [
        SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
        ActionExecuted(self.name()),
        *additional_events,
    ]
    return replayed_with(current_tracker, events, domain)


_replaying_validation = ActionExtractSlots._execute_validation_action


async def _execute_validation_action(
    self: ActionExtractSlots,
    extraction_events: list[Event],
    output_channel: Any,
    nlg: Any,
    tracker: DialogueStateTracker,
    domain: Domain,
) -> list[Event]:
    # Rasa's, line for line, with `replayed_with` for the replay.
    slot_events: list[Event] = [event for event in extraction_events if isinstance(event, SlotSet)]
    if ACTION_VALIDATE_SLOT_MAPPINGS not in domain.user_actions:
        return slot_events
    _tracker = replayed_with(tracker, slot_events, domain)
    validate_events = await self._run_custom_action(
        ACTION_VALIDATE_SLOT_MAPPINGS, output_channel, nlg, _tracker, domain
    )
    validated_slot_names = [event.key for event in validate_events if isinstance(event, SlotSet)]
    return validate_events + [
        event for event in slot_events if event.key not in validated_slot_names
    ]


def install() -> None:
    """Makes `DialogueStateTracker.copy()` and forms' temporary trackers clone where that is
    equivalent."""
    if getattr(DialogueStateTracker, _INSTALLED_MARK, False):
        return
    DialogueStateTracker.copy = _copy  # type: ignore[method-assign]
    FormAction._temporary_tracker = _temporary_tracker  # type: ignore[method-assign]
    # Only over Rasa's own: pos_assistant/action_timeouts.py wraps whatever is there first.
    if ActionExtractSlots._execute_validation_action is _replaying_validation:
        ActionExtractSlots._execute_validation_action = _execute_validation_action  # type: ignore[method-assign]
    setattr(DialogueStateTracker, _INSTALLED_MARK, True)

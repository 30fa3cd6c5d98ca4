"""Rasa's dialogue states of a tracker, continued from the previous prediction's.

Before every prediction RulePolicy (twice) and MemoizationPolicy turn the whole session into
dialogue states (`Domain.states_for_tracker_history`, Rasa 3.6.21): a fresh tracker replays every
applied event and a state is built before each action. A turn therefore costs more the longer
the conversation. The computation is a left fold over the applied events, so the states of a
prefix never change when events are appended: this module keeps the fold (the replaying
tracker, the states so far and the two values the loop carries) per conversation and parameters,
and continues it over the new applied events only.

It is continued only when the events folded so far are, object for object, the start of the
tracker's applied events now (`applied_events()` is computed in full every time, so a revert,
an undone loop turn or a new session simply starts the fold again). The loop body is Rasa's
own, line for line; tests/unit/test_past_states.py compares the result with Rasa's on every
prefix of a conversation with every kind of event. Folds are kept for the most recent
conversations, at most 256 and 50,000 states (a conversation longer than that alone is folded
anew each time).

A caller that reads only the last states (a featurizer with a max history, RulePolicy whose
rules are at most a few states long: pos_assistant/state_tail.py) can ask for only those with
`only_last_states`: the fold still covers the whole session, but what is handed out, and so
copied and featurized, no longer grows with it.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from rasa.shared.core.constants import ACTION_UNLIKELY_INTENT_NAME, PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_NAME, INTENT, TEXT

from pos_assistant.bounded_lru import BoundedLRU
from pos_assistant.tracker_copy import clone_tracker

MAX_CONVERSATIONS = 256
# Folds kept just after a conversation's latest loop executions (a form in progress needs one).
MAX_LOOP_MARKS = 3
# About 1 KB a state: the kept folds stay under ~50 MB however long the conversations.
MAX_STATES = 50_000
# Set by the tracker store on the trackers it reads: how many of their events are stored ones.
STORED_EVENTS_ATTRIBUTE = "_pos_assistant_stored_events"
_INSTALLED_MARK = "_pos_assistant_incremental_states"


@dataclass
class _Fold:
    """`states_for_tracker_history`'s loop, stopped after the events in `applied`."""

    replay: DialogueStateTracker
    applied: list[Event] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False

    def branch(self) -> _Fold:
        """A fold that continues from here without changing this one."""
        return _Fold(
            clone_tracker(self.replay),
            list(self.applied),
            list(self.states),
            self.last_ml_action_sub_state,
            self.turn_was_hidden,
        )


@dataclass
class _Folds:
    """A conversation's latest fold, the fold up to the end of its stored events, and the folds
    just after its latest loop executions.

    The next turn's tracker holds the same stored event objects (the tracker store's cache), but
    this turn's new events come back from the database as new objects: that turn continues from
    `stored`.

    Inside a form, each execution of the form takes the turn since its previous execution out
    of the applied events again (`DialogueStateTracker._undo_till_previous_loop_execution`): the
    folded events are no longer their start, but the fold just after that previous execution
    still is. Without those, every turn of a form started the fold again from the beginning of
    the session.
    """

    latest: _Fold
    stored: _Fold | None = None
    after_loops: list[_Fold] = field(default_factory=list)


def kept_folds(max_states: int = MAX_STATES) -> BoundedLRU[tuple, _Folds]:
    """Folds by conversation and parameters, most recently used last. A fold is taken out while
    it is continued, so its size is current when it is put back."""
    return BoundedLRU(
        max_states, lambda folds: len(folds.latest.states), max_entries=MAX_CONVERSATIONS
    )


_folds = kept_folds()


@dataclass(frozen=True)
class _Tail:
    """How many of the last states a caller reads; `skip_unlikely_intent`: not counting states
    after `action_unlikely_intent`, which the featurizer drops before it slices."""

    length: int
    skip_unlikely_intent: bool


_wanted_tail: ContextVar[_Tail | None] = ContextVar("pos_assistant_wanted_tail", default=None)


@contextmanager
def only_last_states(length: int | None, skip_unlikely_intent: bool = False) -> Iterator[None]:
    """Within the block, `states_for_tracker_history` returns only the states a caller that
    reads the last `length` states needs (None or 0: all of them)."""
    token = _wanted_tail.set(_Tail(length, skip_unlikely_intent) if length else None)
    try:
        yield
    finally:
        _wanted_tail.reset(token)


def _is_after_unlikely_intent(state: State) -> bool:
    # The featurizer's `_is_prev_action_unlikely_intent_in_state`.
    return state.get(PREVIOUS_ACTION, {}).get(ACTION_NAME) == ACTION_UNLIKELY_INTENT_NAME


def _tail_start(states: list[State], final: list[State], tail: _Tail | None) -> int:
    """Where, in the kept `states` followed by the `final` one (if any), the states that `tail`
    reads begin; counted without joining the two lists."""
    if tail is None:
        return 0
    wanted = tail.length
    if final and not (tail.skip_unlikely_intent and _is_after_unlikely_intent(final[0])):
        wanted -= 1
    if not tail.skip_unlikely_intent:
        return max(0, len(states) - wanted)
    counted = 0
    for index in range(len(states) - 1, -1, -1):
        if counted == wanted:
            return index + 1
        counted += not _is_after_unlikely_intent(states[index])
    return 0


def _step(
    domain: Domain,
    fold: _Fold,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
    states: list[State],
) -> None:
    """One pass of Rasa's loop body with `fold.replay` as the prior tracker."""
    tr = fold.replay
    if ignore_rule_only_turns:
        if not fold.turn_was_hidden:
            fold.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
            fold.turn_was_hidden = hide_rule_turn
        if fold.turn_was_hidden:
            return
    state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if fold.last_ml_action_sub_state:
            state[PREVIOUS_ACTION] = cast(SubState, fold.last_ml_action_sub_state)
    states.append(domain._clean_state(state))


def _is_start_of(folded: list[Event], applied: list[Event]) -> bool:
    return len(folded) <= len(applied) and all(map(operator.is_, folded, applied))


def _copy_state(state: State) -> State:
    return {kind: dict(sub_state) for kind, sub_state in state.items()}  # type: ignore[misc]


def _handed_out(state: State) -> State:
    """A kept state as a caller may have it: copied only where callers change it.

    Rasa's policies change the states they get in one place only, the featurizer's
    `_choose_last_user_input` (rasa/core/featurizers/tracker_featurizers.py): it deletes keys from
    the last state's user part, and the user text of every state whose user part also has an
    intent (`_remove_user_text_if_intent`). So the last state is always copied (below), and any
    other state only if it has that text. Copying every state, every prediction,
    three predictions a turn, was what still made late turns of a long conversation cost more.
    """
    user = state.get(USER)
    if user is not None and INTENT in user and TEXT in user:
        return _copy_state(state)
    return state


def states_for_tracker_history(
    domain: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """The same list as Rasa's `Domain.states_for_tracker_history`."""
    applied = tracker.applied_events()
    key = (
        id(domain),
        tracker.sender_id,
        tracker.is_rule_tracker,
        tracker._max_event_history,
        omit_unset_slots,
        ignore_rule_only_turns,
        json.dumps(rule_only_data, sort_keys=True, default=str),
    )
    folds = _folds.pop(key)
    fold = _continuable(folds, applied, tracker)
    stored_end = _stored_end(tracker, applied)
    stored: _Fold | None = folds.stored if folds else None
    after_loops = (
        [mark for mark in folds.after_loops if _is_start_of(mark.applied, applied)] if folds else []
    )
    params = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    # Its ActiveLoop event comes after a loop's first ActionExecuted: forms are known by name.
    loop_names = set(domain.form_names)
    for index in range(len(fold.applied), len(applied)):
        if index == stored_end:
            stored = fold.branch()
        event = applied[index]
        if isinstance(event, ActionExecuted):
            _step(domain, fold, event.hide_rule_turn, *params, fold.states)
        fold.replay.update(event)
        fold.applied.append(event)
        if isinstance(event, ActionExecuted) and (
            event.action_name in loop_names or event.action_name == fold.replay.active_loop_name
        ):
            after_loops = [*after_loops[-(MAX_LOOP_MARKS - 1) :], fold.branch()]
    if stored_end == len(applied):
        stored = fold.branch()
    # The loop's last pass (after every event) is made on the side: the fold continues from
    # here. The pass reads only the state before it.
    last = _Fold(fold.replay, applied, fold.states[-1:], *_carried(fold))
    _step(domain, last, False, *params, last.states)
    final = last.states[len(fold.states[-1:]) :]  # the state it added, if any
    states = fold.states
    _folds.put(key, _Folds(fold, stored, after_loops))
    handed = states[_tail_start(states, final, _wanted_tail.get()) :] + final
    if not handed:
        return []
    # The last state is always copied: the loop's last pass may share its user part with the
    # state before (`_substitute_rule_only_user_input`) or add no state at all.
    return [*map(_handed_out, handed[:-1]), _copy_state(handed[-1])]


def _continuable(
    folds: _Folds | None, applied: list[Event], tracker: DialogueStateTracker
) -> _Fold:
    """The latest fold, else the stored events' fold, if they start `applied`; else a new one."""
    if folds is not None:
        if _is_start_of(folds.latest.applied, applied):
            return folds.latest
        candidates = [folds.stored] if folds.stored is not None else []
        candidates += reversed(folds.after_loops)
        usable = [fold for fold in candidates if _is_start_of(fold.applied, applied)]
        if usable:
            return max(usable, key=lambda fold: len(fold.applied)).branch()
    return _Fold(replay=tracker.init_copy())


def _stored_end(tracker: DialogueStateTracker, applied: list[Event]) -> int | None:
    """Where the applied events that came from the tracker store end (None: not known)."""
    stored = getattr(tracker, STORED_EVENTS_ATTRIBUTE, None)
    if stored is None:
        return None
    events = tracker.events
    new = {id(event) for event in itertools.islice(reversed(events), len(events) - stored)}
    end = len(applied)
    while end and id(applied[end - 1]) in new:
        end -= 1
    return end


def _carried(fold: _Fold) -> tuple[Any, bool]:
    return fold.last_ml_action_sub_state, fold.turn_was_hidden


def _patched(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    return states_for_tracker_history(
        self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data
    )


original_states_for_tracker_history = Domain.states_for_tracker_history


def install() -> None:
    """Makes `Domain.states_for_tracker_history` continue the previous fold (idempotent)."""
    if getattr(Domain, _INSTALLED_MARK, False):
        return
    Domain.states_for_tracker_history = _patched  # type: ignore[method-assign]
    setattr(Domain, _INSTALLED_MARK, True)

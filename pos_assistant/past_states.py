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
prefix of a conversation with every kind of event. The fold is kept for the 256 most recent
conversations.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, cast

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

MAX_CONVERSATIONS = 256
_INSTALLED_MARK = "_pos_assistant_incremental_states"


@dataclass
class _Fold:
    """`states_for_tracker_history`'s loop, stopped after the events in `applied`."""

    replay: DialogueStateTracker
    applied: list[Event] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False


_folds: OrderedDict[tuple, _Fold] = OrderedDict()


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
    return len(folded) <= len(applied) and all(
        a is b for a, b in zip(folded, applied, strict=False)
    )


def _copy_state(state: State) -> State:
    # Callers change the states they get (the last user input); the kept ones must not change.
    return {kind: dict(sub_state) for kind, sub_state in state.items()}  # type: ignore[misc]


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
    fold = _folds.pop(key, None)
    if fold is None or not _is_start_of(fold.applied, applied):
        fold = _Fold(replay=tracker.init_copy())
    params = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    for event in applied[len(fold.applied) :]:
        if isinstance(event, ActionExecuted):
            _step(domain, fold, event.hide_rule_turn, *params, fold.states)
        fold.replay.update(event)
    fold.applied = applied
    # The loop's last pass (after every event) goes into a copy: the fold continues from here.
    last = _Fold(fold.replay, applied, list(fold.states), *_carried(fold))
    _step(domain, last, False, *params, last.states)
    _folds[key] = fold
    while len(_folds) > MAX_CONVERSATIONS:
        _folds.popitem(last=False)
    return [_copy_state(state) for state in last.states]


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

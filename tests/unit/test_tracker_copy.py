"""A tracker copied without replay is in the state Rasa's replaying copy gives, and independent."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from rasa.core.actions.forms import FormAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    LoopInterrupted,
    Restarted,
    SlotSet,
)
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant import tracker_copy
from pos_assistant.tracker_copy import clone_tracker, replay_equivalent
from tests.e2e.stack import PROJECT_ROOT
from tests.unit.tracker_states import all_events, full_state


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def _replayed(tracker: DialogueStateTracker) -> DialogueStateTracker:
    return tracker_copy._replaying_copy(tracker)


def test_a_clone_has_the_replayed_state_after_every_event(domain: Domain) -> None:
    events = all_events()
    for length in range(1, len(events) + 1):
        tracker = DialogueStateTracker.from_events("u", events[:length], domain.slots)
        assert full_state(clone_tracker(tracker), domain) == full_state(
            _replayed(tracker), domain
        ), f"after {events[length - 1]}"


def test_changing_a_clone_leaves_the_original_alone(domain: Domain) -> None:
    events = all_events()[:12]  # inside the form, slots set
    tracker = DialogueStateTracker.from_events("u", events, domain.slots)
    before = full_state(tracker, domain)
    clone = clone_tracker(tracker)
    clone.update(SlotSet("situation", "gift_not_mailed"))
    clone.update(LoopInterrupted(False))
    clone.update(ActionExecuted("action_listen"))
    clone.active_loop.rejected = True
    assert full_state(tracker, domain) == before
    assert full_state(clone, domain) != before


def test_a_followup_cleared_by_hand_is_copied_by_replay(domain: Domain) -> None:
    # The processor clears the follow-up action before running it, without an event; Rasa's
    # replaying copy brings it back, and so must ours.
    events = all_events()
    upto = next(i for i, e in enumerate(events) if e.type_name == "followup") + 1
    tracker = DialogueStateTracker.from_events("u", events[:upto], domain.slots)
    tracker.clear_followup_action()
    assert not replay_equivalent(tracker)
    tracker_copy.install()
    assert tracker.copy().followup_action == "action_listen"
    assert full_state(tracker.copy(), domain) == full_state(_replayed(tracker), domain)


def test_the_patched_copy_clones_where_equivalent(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("u", all_events(), domain.slots)
    tracker_copy.install()
    assert replay_equivalent(tracker)
    assert full_state(tracker.copy(), domain) == full_state(_replayed(tracker), domain)


def test_a_forms_temporary_tracker_is_rasas(domain: Domain) -> None:
    form = FormAction("unordered_device_form", None)
    extra = [SlotSet("asked_for_codes_or_money", True)]
    events = all_events()
    for length in range(1, len(events) + 1):
        tracker = DialogueStateTracker.from_events("u", events[:length], domain.slots)
        ours = tracker_copy._temporary_tracker(form, tracker, extra, domain)
        rasas = tracker_copy._replaying_temporary_tracker(form, tracker, extra, domain)
        # The form's two new events are made in each call: their times differ.
        assert _timeless(full_state(ours, domain)) == _timeless(full_state(rasas, domain))


def _timeless(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _timeless(item)
            for key, item in value.items()
            if key not in ("timestamp", "latest_event_time")
        }
    if isinstance(value, list):
        return [_timeless(item) for item in value]
    return value


def test_the_tracker_slot_validation_gets_is_rasas(domain: Domain) -> None:
    extra = [SlotSet("brand", "拉卡拉")]
    events = all_events()
    for length in range(1, len(events) + 1):
        tracker = DialogueStateTracker.from_events("u", events[:length], domain.slots)
        ours = tracker_copy.replayed_with(tracker, extra, domain)
        rasas = DialogueStateTracker.from_events(
            "u", tracker.events_after_latest_restart() + extra, slots=domain.slots
        )
        assert full_state(ours, domain) == full_state(rasas, domain), f"after {events[length - 1]}"


def test_a_slot_copy_is_copy_copys_for_every_slot_type(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("rest:slots", all_events(), domain.slots)
    for slot in tracker.slots.values():
        ours, theirs = tracker_copy.copy_slot(slot), copy.copy(slot)
        assert type(ours) is type(theirs) and ours is not slot
        assert vars(ours) == vars(theirs)
        assert all(vars(ours)[name] is value for name, value in vars(slot).items())  # shallow
    assert {type(slot).__name__ for slot in tracker.slots.values()} >= {
        "TextSlot",
        "BooleanSlot",
        "CategoricalSlot",
        "ListSlot",
        "AnySlot",
    }


def test_a_slot_class_with_its_own_copy_is_copied_by_the_copy_module() -> None:
    class CountedSlot(TextSlot):
        def __copy__(self) -> CountedSlot:
            twin = CountedSlot(self.name, mappings=[])
            twin.copies = getattr(self, "copies", 0) + 1  # type: ignore[attr-defined]
            return twin

    slot = CountedSlot("counted", mappings=[])
    assert tracker_copy.copy_slot(slot).copies == 1  # type: ignore[attr-defined]


def test_a_clone_of_a_subclassed_tracker_keeps_its_class(domain: Domain) -> None:
    class OwnTracker(DialogueStateTracker):
        def init_copy(self) -> OwnTracker:
            return OwnTracker(self.sender_id, self.slots.values(), self._max_event_history)

    tracker = OwnTracker("rest:own", domain.slots)
    for event in all_events():
        tracker.update(event)
    clone = clone_tracker(tracker)
    assert type(clone) is OwnTracker
    assert full_state(clone, domain) == full_state(tracker, domain)


def test_a_rejected_loop_is_copied_by_clone_and_a_restart_by_replay(domain: Domain) -> None:
    events = all_events()
    rejected = next(i for i, e in enumerate(events) if isinstance(e, ActionExecutionRejected))
    tracker = DialogueStateTracker.from_events("u", events[: rejected + 1], domain.slots)
    assert replay_equivalent(tracker)  # a rejection changes no follow-up action: no replay
    # A restart in the session: the temporary tracker starts after it, as Rasa's does.
    form = FormAction("unordered_device_form", None)
    restarted = DialogueStateTracker.from_events(
        "u", [*events[:5], Restarted(), *events[5:12]], domain.slots
    )
    ours = tracker_copy._temporary_tracker(form, restarted, [], domain)
    rasas = tracker_copy._replaying_temporary_tracker(form, restarted, [], domain)
    assert len(ours.events) == len(rasas.events) < len(restarted.events)
    assert _timeless(full_state(ours, domain)) == _timeless(full_state(rasas, domain))

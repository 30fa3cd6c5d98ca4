"""The applied events continued from the previous call equal Rasa's, recomputed."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant import applied_events
from pos_assistant.tracker_store import MaskingSQLTrackerStore
from tests.e2e.stack import PROJECT_ROOT
from tests.unit.tracker_states import turns

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def _rasa(tracker: DialogueStateTracker) -> list:
    return applied_events.original_applied_events(tracker)


def _long_conversation() -> list:
    first, *rest = turns()
    return list(first) + [event for _ in range(3) for turn in rest for event in turn]


def test_continued_over_a_growing_conversation_equals_rasas(domain: Domain) -> None:
    tracker = DialogueStateTracker("rest:grow", domain.slots)
    for event in _long_conversation():
        tracker.update(event)
        assert applied_events.applied_events(tracker) == _rasa(tracker), f"after {event}"


def test_a_new_loop_name_a_branch_and_a_shorter_tracker_start_again(domain: Domain) -> None:
    events = _long_conversation()
    long = DialogueStateTracker.from_events("rest:b", events, domain.slots)
    applied_events.applied_events(long)
    for length in (len(events) // 2, 4):
        short = DialogueStateTracker.from_events("rest:b", events[:length], domain.slots)
        assert applied_events.applied_events(short) == _rasa(short)
    # A loop activated later changes how its earlier executions were treated.
    tracker = DialogueStateTracker.from_events("rest:b", events[:30], domain.slots)
    applied_events.applied_events(tracker)
    for event in [
        UserUttered("登记工单", {"name": "open_case", "confidence": 1.0}),
        ActionExecuted("open_case_form"),
        ActiveLoop("open_case_form"),
        ActionExecuted("action_listen"),
    ]:
        tracker.update(event)
        assert applied_events.applied_events(tracker) == _rasa(tracker)


def test_turns_read_from_the_tracker_store_continue_the_walk(
    domain: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MaskingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"), encryption_key=KEY
    )
    walked: list[int] = []
    original = applied_events._walk_on

    def counting(*args) -> None:
        walked.append(1)
        original(*args)

    monkeypatch.setattr(applied_events, "_walk_on", counting)
    first, *rest = turns()
    conversation = [first] + rest * 3
    for number, turn in enumerate(conversation):
        tracker = asyncio.run(store.retrieve("rest:s")) or DialogueStateTracker(
            "rest:s", domain.slots
        )
        for event in turn:
            tracker.update(copy.deepcopy(event))
        walked.clear()
        assert applied_events.applied_events(tracker) == _rasa(tracker), f"turn {number}"
        recent = len(conversation[number - 1]) + len(turn) if number else len(turn)
        assert len(walked) <= recent, f"turn {number}: walked {len(walked)} events"
        asyncio.run(store.save(tracker))

"""The dialogue states continued from the previous prediction equal Rasa's, recomputed."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from rasa.core.featurizers.single_state_featurizer import SingleStateFeaturizer
from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant import past_states
from pos_assistant.tracker_store import MaskingSQLTrackerStore
from tests.e2e.stack import PROJECT_ROOT
from tests.unit.tracker_states import stories_one_after_another, turns

KEY = Fernet.generate_key().decode()
RULE_ONLY = {"slots": ["human_offered"], "active_loops": ["unordered_device_form"]}
PARAMETERS = [
    {},
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
    {"omit_unset_slots": True},
]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def _long_conversation() -> list:
    first, *rest = turns()
    events = list(first)
    for _ in range(3):
        events += [event for turn in rest for event in turn]
    return events


def _rasa(domain: Domain, tracker: DialogueStateTracker, **parameters) -> list:
    return past_states.original_states_for_tracker_history(domain, tracker, **parameters)


@pytest.mark.parametrize("parameters", PARAMETERS)
def test_states_continued_over_a_growing_conversation_equal_rasas(
    domain: Domain, parameters: dict
) -> None:
    events = _long_conversation()
    tracker = DialogueStateTracker("rest:grow", domain.slots)
    for event in events:
        tracker.update(event)
        ours = past_states.states_for_tracker_history(domain, tracker, **parameters)
        assert ours == _rasa(domain, tracker, **parameters), f"after {event}"


def test_a_branch_and_a_shorter_tracker_start_the_fold_again(domain: Domain) -> None:
    events = _long_conversation()
    long = DialogueStateTracker.from_events("rest:b", events, domain.slots)
    past_states.states_for_tracker_history(domain, long)
    for length in (len(events) // 2, 5, len(events) - 3):
        short = DialogueStateTracker.from_events("rest:b", events[:length], domain.slots)
        assert past_states.states_for_tracker_history(domain, short) == _rasa(domain, short)
    branch = DialogueStateTracker.from_events("rest:b", events[:20], domain.slots)
    branch.update(UserUttered("另一条路", {"name": "deny", "confidence": 1.0}))
    branch.update(ActionExecuted("utter_goodbye"))
    assert past_states.states_for_tracker_history(domain, branch) == _rasa(domain, branch)


@pytest.mark.parametrize("parameters", PARAMETERS)
@pytest.mark.parametrize("use_text", [False, True])
def test_what_the_policies_change_in_the_returned_states_changes_no_later_result(
    domain: Domain, parameters: dict, use_text: bool
) -> None:
    # The only change Rasa's policies make to the states they get: the featurizer's choice of
    # the last user input, which also drops the text of every state that has an intent.
    featurizer = MaxHistoryTrackerFeaturizer(SingleStateFeaturizer(), max_history=None)
    events = _long_conversation()
    tracker = DialogueStateTracker(f"rest:changed-{use_text}", domain.slots)
    changed = 0
    for event in events:
        tracker.update(event)
        handed_out = past_states.states_for_tracker_history(domain, tracker, **parameters)
        assert handed_out == _rasa(domain, tracker, **parameters), f"after {event}"
        before = copy.deepcopy(handed_out)
        featurizer._choose_last_user_input([handed_out], use_text)
        changed += handed_out != before
    assert changed  # the featurizer did change some of them: the check is not vacuous


def test_install_routes_rasa_through_the_fold(domain: Domain) -> None:
    past_states.install()
    tracker = DialogueStateTracker.from_events("rest:i", _long_conversation(), domain.slots)
    past_states._folds.clear()
    assert tracker.past_states(domain) == _rasa(domain, tracker)
    assert any(key[1] == "rest:i" for key in past_states._folds)


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry for every pass of the fold's loop body (`_step`) from now on."""
    counted: list[int] = []
    original_step = past_states._step

    def counting_step(*args, **kwargs) -> None:
        counted.append(1)
        original_step(*args, **kwargs)

    monkeypatch.setattr(past_states, "_step", counting_step)
    return counted


def test_turns_read_from_the_tracker_store_continue_the_fold(
    domain: Domain, tmp_path: Path, steps: list[int]
) -> None:
    # Each turn's new events come back from the database as new objects next turn: the fold
    # continues from the end of the events that were stored, not from the start.
    store = MaskingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"), encryption_key=KEY
    )
    first, *rest = turns()
    conversation = [first] + rest * 3
    for number, turn in enumerate(conversation):
        tracker = asyncio.run(store.retrieve("rest:s")) or DialogueStateTracker(
            "rest:s", domain.slots
        )
        for event in turn:
            tracker.update(copy.deepcopy(event))
        steps.clear()
        for parameters in PARAMETERS:
            ours = past_states.states_for_tracker_history(domain, tracker, **parameters)
            assert ours == _rasa(domain, tracker, **parameters), f"turn {number}"
        recent = conversation[number - 1] + turn if number else turn
        recent_actions = sum(isinstance(event, ActionExecuted) for event in recent)
        assert len(steps) <= len(PARAMETERS) * (recent_actions + 1), f"turn {number}: restarted"
        asyncio.run(store.save(tracker))


def test_the_kept_folds_are_bounded_by_states(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _long_conversation()
    one = len(_rasa(domain, DialogueStateTracker.from_events("x", events, domain.slots)))
    monkeypatch.setattr(past_states, "_folds", past_states.kept_folds(2 * one + one // 2))
    for number in range(5):
        tracker = DialogueStateTracker.from_events(f"rest:m{number}", events, domain.slots)
        past_states.states_for_tracker_history(domain, tracker)
    assert [key[1] for key in past_states._folds] == ["rest:m3", "rest:m4"]


@pytest.mark.parametrize("parameters", PARAMETERS)
def test_turns_inside_forms_continue_the_fold_and_equal_rasas(
    domain: Domain, parameters: dict, steps: list[int]
) -> None:
    # Each form execution takes the turn since the previous one out of the applied events:
    # the fold continues from just after that execution, not from the start of the session.
    tracker = DialogueStateTracker("rest:forms", domain.slots)
    most = predictions = 0
    for event in stories_one_after_another(domain):
        tracker.update(event)
        if isinstance(event, ActionExecuted):
            steps.clear()
            ours = past_states.states_for_tracker_history(domain, tracker, **parameters)
            most = max(most, len(steps))
            assert ours == _rasa(domain, tracker, **parameters), f"after {event}"
            predictions += 1
    assert predictions > 300
    assert most <= 3  # a few events, wherever in a long conversation

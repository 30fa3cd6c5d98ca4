"""RulePolicy's rule lookup that stops walking back once nothing can change finds the same
rules as Rasa's, which walks back over the whole conversation."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import SHOULD_NOT_BE_SET
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant import rule_lookup
from tests.e2e.stack import PROJECT_ROOT
from tests.unit.tracker_states import all_events

State = dict[str, Any]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def _conversation_states(domain: Domain) -> list[list[State]]:
    """The dialogue states after each event of a conversation with every kind of event."""
    events = all_events() * 3  # long enough for the walk back to matter
    tracker = DialogueStateTracker("rest:rules", domain.slots)
    prefixes = []
    for event in events:
        tracker.update(event)
        prefixes.append(domain.states_for_tracker_history(tracker))
    return prefixes


def _rule_from(states: list[State], generator: random.Random) -> list[State]:
    """A rule made of a window of real states, some features dropped or required unset."""
    length = generator.randint(1, min(6, len(states)))
    start = generator.randint(0, len(states) - length)
    rule = []
    for state in states[start : start + length]:
        kept: State = {}
        for kind, features in state.items():
            chosen = {
                key: (SHOULD_NOT_BE_SET if generator.random() < 0.1 else value)
                for key, value in features.items()
                if generator.random() < 0.6
            }
            if chosen or kind == "prev_action":
                kept[kind] = chosen or features
        rule.append(kept)
    if generator.random() < 0.1:
        rule[0] = {}  # a conversation-start rule
    return rule


@pytest.fixture(scope="module")
def policy() -> RulePolicy:
    return RulePolicy.__new__(RulePolicy)  # the lookup reads no trained state


def test_the_rules_found_are_rasas_for_every_prefix_of_a_conversation(
    domain: Domain, policy: RulePolicy
) -> None:
    generator = random.Random(2611)
    prefixes = _conversation_states(domain)
    longest = prefixes[-1]
    lookup = {
        json.dumps(_rule_from(longest, generator)): f"action_{number}" for number in range(400)
    }
    matched = 0
    for states in prefixes:
        ours = rule_lookup.get_possible_keys(policy, lookup, states)
        assert ours == rule_lookup.upstream_get_possible_keys(policy, lookup, states)
        matched += len(ours)
    assert matched > len(prefixes)  # rules do match: the comparison is not of empty sets


def test_a_rule_longer_than_the_conversation_is_checked_to_its_start(
    domain: Domain, policy: RulePolicy
) -> None:
    states = _conversation_states(domain)[2]
    lookup = {json.dumps([{}, *states]): "a", json.dumps(states): "b", "[]": "c"}
    ours = rule_lookup.get_possible_keys(policy, lookup, states)
    assert ours == rule_lookup.upstream_get_possible_keys(policy, lookup, states)
    assert json.dumps(states) in ours


def test_installed_in_the_rasa_server_process() -> None:
    import pos_assistant.rasa_patches as patches

    patches.install()
    assert rule_lookup.installed()
    assert RulePolicy._get_possible_keys is rule_lookup._get_possible_keys

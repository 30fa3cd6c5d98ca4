"""Policies handed only the last dialogue states they read predict what Rasa's predict with every
state of the session (pos_assistant/state_tail.py)."""

from __future__ import annotations

import json
import random

import pytest
from rasa.core.agent import Agent
from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import ACTION_UNLIKELY_INTENT_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import pos_assistant.rasa_patches as patches
from pos_assistant import past_states, rule_lookup, state_tail
from tests.e2e.stack import PROJECT_ROOT, model_under_test
from tests.unit.test_rule_lookup import _conversation_states, _rule_from
from tests.unit.tracker_states import all_events, stories_one_after_another


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def agent() -> Agent:
    patches.install()
    return Agent.load(str(model_under_test()))


def _policy(agent: Agent, kind: type) -> RulePolicy | MemoizationPolicy:
    nodes = agent.processor.graph_runner._instantiated_nodes  # type: ignore[union-attr]
    return next(node._component for node in nodes.values() if type(node._component) is kind)


def test_predictions_from_the_last_states_are_rasas_over_a_long_conversation(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = agent.domain
    rule = _policy(agent, RulePolicy)
    memoization = _policy(agent, MemoizationPolicy)
    rule_only_data = rule._get_rule_only_data()
    tracker = DialogueStateTracker("rest:tail", domain.slots)
    predictions = 0
    for event in stories_one_after_another(domain):
        if isinstance(event, ActionExecuted):
            ours = [
                policy.predict_action_probabilities(tracker, domain, rule_only_data)
                for policy in (rule, memoization)
            ]
            with monkeypatch.context() as upstream:
                upstream.setattr(
                    MaxHistoryTrackerFeaturizer,
                    "prediction_states",
                    state_tail.upstream_prediction_states,
                )
                upstream.setattr(
                    RulePolicy, "predict_action_probabilities", state_tail.upstream_rule_prediction
                )
                rasas = [
                    policy.predict_action_probabilities(tracker, domain, rule_only_data)
                    for policy in (rule, memoization)
                ]
            assert ours == rasas, f"prediction {predictions}, before {event}"
            predictions += 1
        tracker.update(event)
    assert predictions > 300
    assert len(tracker.past_states(domain)) > 250  # long: the tails are a small part of it


def test_the_policies_are_handed_only_their_tail(agent: Agent) -> None:
    domain = agent.domain
    rule = _policy(agent, RulePolicy)
    events = stories_one_after_another(domain)
    tracker = DialogueStateTracker.from_events("rest:short", events, domain.slots)
    memoization = _policy(agent, MemoizationPolicy)
    assert len(memoization._prediction_states(tracker, domain)) == 5
    with past_states.only_last_states(state_tail.rule_policy_reads(rule)):
        assert len(rule._prediction_states(tracker, domain)) == state_tail.rule_policy_reads(rule)
    assert 1 < state_tail.rule_policy_reads(rule) < 10


def test_rules_read_through_the_tail_match_as_through_every_state(domain: Domain) -> None:
    # What RulePolicy's prediction reads its states through: the rules found from the last
    # `longest_rule` states are those found from all of them. One state fewer and a long rule
    # matches states it should not (the case the model's own rules happen not to show).
    generator = random.Random(7)
    prefixes = _conversation_states(domain)
    lookup = {
        json.dumps(_rule_from(prefixes[-1], generator)): f"action_{number}" for number in range(400)
    }
    policy = RulePolicy.__new__(RulePolicy)
    reads = rule_lookup.longest_rule([lookup])
    for states in prefixes:
        assert rule_lookup.get_possible_keys(
            policy, lookup, states[-reads:]
        ) == rule_lookup.get_possible_keys(policy, lookup, states)
    wrong = sum(
        rule_lookup.get_possible_keys(policy, lookup, states[-(reads - 1) :])
        != rule_lookup.get_possible_keys(policy, lookup, states)
        for states in prefixes
    )
    assert wrong


def _with_unlikely_intent_turns(events: list) -> list:
    """The conversation with `action_unlikely_intent` run after every third user message."""
    marked = []
    for number, event in enumerate(events):
        marked.append(event)
        if isinstance(event, UserUttered) and number % 3 == 0:
            marked.append(ActionExecuted(ACTION_UNLIKELY_INTENT_NAME))
    return marked


@pytest.mark.parametrize("skip_unlikely_intent", [False, True])
def test_the_states_handed_out_are_the_end_of_all_of_them(
    domain: Domain, skip_unlikely_intent: bool
) -> None:
    # With `skip_unlikely_intent`, as the featurizer reads them: after it drops the states that
    # follow `action_unlikely_intent`, the last `length` are the same.
    def read(states: list) -> list:
        if skip_unlikely_intent:
            states = MaxHistoryTrackerFeaturizer._remove_action_unlikely_intent_from_states(states)
        return states[-length:]

    tracker = DialogueStateTracker("rest:tail-end", domain.slots)
    shorter = 0
    for event in _with_unlikely_intent_turns(all_events() * 2):
        tracker.update(event)
        every = past_states.states_for_tracker_history(domain, tracker)
        for length in (1, 2, 5):
            with past_states.only_last_states(length, skip_unlikely_intent):
                tail = past_states.states_for_tracker_history(domain, tracker)
            assert read(tail) == read(every), f"after {event}, {length}"
            assert len(tail) <= len(every)
            shorter += len(tail) < len(every)
    assert shorter

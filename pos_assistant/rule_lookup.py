"""RulePolicy's rule lookup without walking the whole conversation on every prediction.

Rasa 3.6's `RulePolicy._get_possible_keys` (rasa/core/policies/rule_policy.py) starts from every
rule and, for every dialogue state of the session from the latest back to the first, keeps the
rules that still match. A rule no longer than the states walked so far always matches the
earlier ones (`_is_rule_applicable` returns True for `turn_index >= len(rule)`), yet upstream
checks every surviving rule against every older state: work that grows with the length of the
conversation, three predictions a turn. And each check decodes the rule's states again
(`list(reversed(json.loads(key)))`, the decoding cached but the copy and reversal not).

Here the walk stops as soon as every surviving rule is shorter than the states walked (nothing
can change after that), and each rule's reversed states are built once. The latest state is
checked only against the rules that could match it: the rules are indexed once by the previous
action their latest state requires (most rules require one, and a different one never matches).
The rules found are the
same set; which of several equally long rules `max(..., key=len)` picks was never defined
upstream either (set order, per-process string hashing). tests/unit/test_rule_lookup.py
compares with Rasa's own lookup.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.nlu.constants import ACTION_NAME

_INSTALLED_MARK = "_pos_assistant_rule_lookup"

# A model's rules (a few thousand keys at most); the bound only guards against misuse.
MAX_DECODED_RULES = 50_000

State = dict[str, Any]
Rule = tuple[str, tuple[State, ...]]  # a rule's key and its states, latest first

upstream_get_possible_keys = RulePolicy._get_possible_keys


@functools.lru_cache(maxsize=MAX_DECODED_RULES)
def reversed_rule_states(rule_key: str) -> tuple[State, ...]:
    """The rule's states, latest first (read-only: shared by every prediction)."""
    return tuple(reversed(json.loads(rule_key)))


def _is_rule_applicable(
    policy: RulePolicy, rule_states: tuple[State, ...], turn_index: int, state: State
) -> bool:
    """`RulePolicy._is_rule_applicable` for a rule whose states are already decoded."""
    if turn_index >= len(rule_states):
        return True
    current_previous_action = state.get(PREVIOUS_ACTION)
    rule_previous_action = rule_states[turn_index].get(PREVIOUS_ACTION)
    if not rule_previous_action and not current_previous_action:
        return True
    if not rule_previous_action or not current_previous_action:
        return False
    return policy._does_rule_match_state(rule_states[turn_index], state)


def _required_previous_action(rule_states: tuple[State, ...]) -> str | None:
    """The previous action name the rule's latest state requires, if it requires one.

    A required name (set, not SHOULD_NOT_BE_SET) fails `_does_rule_match_state` against any
    state whose previous action has another name or none, and `_is_rule_applicable` against a
    state without a previous action.
    """
    if not rule_states:
        return None
    name = (rule_states[0].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    if isinstance(name, str) and name and name != SHOULD_NOT_BE_SET:
        return name
    return None


@dataclass(frozen=True)
class RuleIndex:
    """A lookup's rules, by the previous action their latest state requires."""

    rules: tuple[Rule, ...]
    longest: int
    by_previous_action: dict[str, tuple[Rule, ...]]
    any_previous_action: tuple[Rule, ...]

    def candidates(self, latest_state: State) -> tuple[Rule, ...]:
        """The rules that may match a conversation whose latest state is `latest_state`."""
        name = (latest_state.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
        required = self.by_previous_action.get(name, ()) if isinstance(name, str) else ()
        return self.any_previous_action + required


@functools.lru_cache(maxsize=16)
def rule_index(rule_keys: tuple[str, ...]) -> RuleIndex:
    """The index of a lookup's rules (its keys: a model has two lookups, built once)."""
    rules = tuple((key, reversed_rule_states(key)) for key in rule_keys)
    by_previous_action: dict[str, list[Rule]] = {}
    any_previous_action: list[Rule] = []
    for rule in rules:
        name = _required_previous_action(rule[1])
        if name is None:
            any_previous_action.append(rule)
        else:
            by_previous_action.setdefault(name, []).append(rule)
    return RuleIndex(
        rules,
        max((len(states) for _, states in rules), default=0),
        {name: tuple(group) for name, group in by_previous_action.items()},
        tuple(any_previous_action),
    )


def get_possible_keys(policy: RulePolicy, lookup: dict[str, str], states: list[State]) -> set[str]:
    """The rules of `lookup` that match the conversation's `states` (upstream's result)."""
    index = rule_index(tuple(lookup))
    if not states or index.longest == 0:
        return {key for key, _ in index.rules}
    latest = states[-1]
    possible = [
        (key, rule)
        for key, rule in index.candidates(latest)
        if _is_rule_applicable(policy, rule, 0, latest)
    ]
    longest = max((len(rule) for _, rule in possible), default=0)
    for turn_index in range(1, len(states)):
        if turn_index >= longest:
            break  # every surviving rule is shorter: it matches whatever came before
        state = states[-1 - turn_index]
        possible = [
            (key, rule)
            for key, rule in possible
            if _is_rule_applicable(policy, rule, turn_index, state)
        ]
        longest = max((len(rule) for _, rule in possible), default=0)
    return {key for key, _ in possible}


def longest_rule(lookups: list[dict[str, str]]) -> int:
    """How many of the last dialogue states the rules of `lookups` read at most."""
    return max((rule_index(tuple(lookup)).longest for lookup in lookups), default=0)


def _get_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list[State]) -> set[str]:
    return get_possible_keys(self, lookup, states)


def install() -> None:
    """Installs the lookup (idempotent)."""
    if getattr(RulePolicy, _INSTALLED_MARK, False):
        return
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]
    setattr(RulePolicy, _INSTALLED_MARK, True)


def installed() -> bool:
    return bool(getattr(RulePolicy, _INSTALLED_MARK, False))

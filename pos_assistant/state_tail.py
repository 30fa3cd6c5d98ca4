"""Policies are handed only the dialogue states they read, not the whole session's.

Before each of its predictions (three a turn) a policy turns the tracker into dialogue states
through its featurizer (`MaxHistoryTrackerFeaturizer.prediction_states`, Rasa 3.6.21), which
asks for every state of the session, changes some of them (`_choose_last_user_input`) and only
then keeps the last `max_history` (MemoizationPolicy: 5). RulePolicy has no max history, but its
rules are at most a few states long and nothing in its prediction reads further back than its
longest rule (`_get_possible_keys`; pos_assistant/rule_lookup.py). Handing out, copying and
changing every state was what still made late turns of a long conversation cost more.

Here both ask pos_assistant/past_states.py for only the last states they read:
- a featurizer with a max history: that many (not counting the states after
  `action_unlikely_intent` when it drops them before slicing, as it does);
- RulePolicy, when predicting: as many as its longest rule (training and its rule analysis keep
  the whole session).

What RulePolicy predicts is unchanged; its debug log lists only those last states, and when no
rule applies, the prediction source it names is built from them (it is only compared with rule
keys, `hide_rule_turn`: no rule key equals states that rule did not match).
tests/unit/test_state_tail.py compares the predictions with Rasa's over long conversations.
"""

from __future__ import annotations

from typing import Any

from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant import past_states, rule_lookup

_INSTALLED_MARK = "_pos_assistant_state_tail"

upstream_prediction_states = MaxHistoryTrackerFeaturizer.prediction_states
upstream_rule_prediction = RulePolicy.predict_action_probabilities


def _prediction_states(
    self: MaxHistoryTrackerFeaturizer,
    trackers: list[DialogueStateTracker],
    domain: Domain,
    use_text_for_last_user_input: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
    ignore_action_unlikely_intent: bool = False,
) -> list[list[State]]:
    arguments = (
        trackers,
        domain,
        use_text_for_last_user_input,
        ignore_rule_only_turns,
        rule_only_data,
        ignore_action_unlikely_intent,
    )
    if not self.max_history:
        return upstream_prediction_states(self, *arguments)
    with past_states.only_last_states(self.max_history, ignore_action_unlikely_intent):
        return upstream_prediction_states(self, *arguments)


def rule_policy_reads(policy: RulePolicy) -> int:
    """How many of the last states RulePolicy's prediction reads: its longest rule."""
    lookups = [policy.lookup.get(RULES, {}), policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
    return rule_lookup.longest_rule(lookups)


def _rule_prediction(
    self,  # unannotated, as upstream's: Rasa's graph validation reads the annotations
    tracker: DialogueStateTracker,
    domain: Domain,
    rule_only_data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> PolicyPrediction:
    # Only when every rule is read through our lookup: upstream's reads the whole session.
    if not rule_lookup.installed():
        return upstream_rule_prediction(self, tracker, domain, rule_only_data, **kwargs)
    with past_states.only_last_states(rule_policy_reads(self)):
        return upstream_rule_prediction(self, tracker, domain, rule_only_data, **kwargs)


def install() -> None:
    """Installs both (idempotent)."""
    if getattr(RulePolicy, _INSTALLED_MARK, False):
        return
    MaxHistoryTrackerFeaturizer.prediction_states = _prediction_states  # type: ignore[method-assign]
    RulePolicy.predict_action_probabilities = _rule_prediction  # type: ignore[method-assign]
    setattr(RulePolicy, _INSTALLED_MARK, True)

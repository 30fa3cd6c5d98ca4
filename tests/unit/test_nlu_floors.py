"""The scoring behind the held-out NLU floors agrees with scikit-learn, and the table is usable."""

from __future__ import annotations

import random

import pytest
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import accuracy_score, f1_score, recall_score

from tests.nlu.floors import HELDOUT_FILE, intent_floor, intent_scores, load_floors, propose

INTENTS = ["greet", "deny", "affirm", "out_of_scope"]


def test_scores_match_sklearn() -> None:
    rng = random.Random(7)
    truth = [rng.choice(INTENTS) for _ in range(200)]
    predicted = [t if rng.random() < 0.7 else rng.choice([*INTENTS, "nlu_fallback"]) for t in truth]
    scores = intent_scores(zip(truth, predicted, strict=True))
    labels = sorted(set(truth))
    assert scores.accuracy == pytest.approx(accuracy_score(truth, predicted))
    assert scores.macro_f1 == pytest.approx(
        f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)
    )
    recalls = recall_score(truth, predicted, labels=labels, average=None, zero_division=0)
    f1s = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    for label, recall, f1 in zip(labels, recalls, f1s, strict=True):
        assert scores.intents[label].recall == pytest.approx(recall)
        assert scores.intents[label].f1 == pytest.approx(f1)


def test_an_intent_that_stops_working_is_below_its_floor() -> None:
    floors = load_floors()
    pairs = [("greet", "greet")] * 10 + [("thank", "thank")] * 10
    assert intent_scores(pairs).intents["greet"].recall >= intent_floor(floors, "greet")["recall"]
    broken = [("greet", "affirm")] * 10 + [("thank", "thank")] * 10
    assert intent_scores(broken).intents["greet"].recall < intent_floor(floors, "greet")["recall"]


def test_the_table_covers_the_heldout_set_and_allows_exactly_one_more_miss() -> None:
    floors = load_floors()
    assert 0.9 <= floors["overall"]["accuracy"] <= 1 and 0.9 <= floors["overall"]["macro_f1"] <= 1
    heldout_intents = {
        message.get("intent") for message in load_data(str(HELDOUT_FILE)).intent_examples
    }
    for intent in heldout_intents:
        floor = intent_floor(floors, intent)  # listed, or the default for a new intent
        assert 0 < floor["recall"] <= 1 and 0 < floor["f1"] <= 1, intent
    # Ten messages all right: the proposal lets one (and only one) be missed.
    perfect = intent_scores([("greet", "greet")] * 10)
    assert propose(perfect)["greet"] == {"recall": 0.9, "f1": 0.9}

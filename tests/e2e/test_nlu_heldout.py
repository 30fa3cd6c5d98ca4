"""The held-out NLU set parsed by the running Rasa server (the model the assistant really uses)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rasa.shared.nlu.training_data.loading import load_data

from tests.e2e.stack import API_TOKEN, PROJECT_ROOT, RasaStack
from tests.nlu.floors import intent_floor, intent_scores, load_floors

HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout_nlu.yml"
ID_ENTITIES = {"case_number", "phone_number", "tracking_number", "device_sn"}
FLOORS = load_floors()  # tests/nlu/floors.yml, explained in docs/nlu-method.md

pytestmark = pytest.mark.e2e


def heldout_examples(path: Path = HELDOUT) -> list[dict]:
    return [
        {
            "text": message.get("text"),
            "intent": message.get("intent"),
            "entities": message.get("entities", []),
        }
        for message in load_data(str(path)).intent_examples
    ]


@pytest.fixture(scope="module")
def heldout_parses(rasa_stack: RasaStack) -> list[tuple[dict, dict]]:
    with httpx.Client(base_url=rasa_stack.rasa_url, timeout=30) as client:
        results = []
        for example in heldout_examples():
            response = client.post(
                "/model/parse", params={"token": API_TOKEN}, json={"text": example["text"]}
            )
            response.raise_for_status()
            results.append((example, response.json()))
    return results


def wrong_answers(heldout_parses: list[tuple[dict, dict]]) -> str:
    return "\n".join(
        f"{example['text']!r}: expected {example['intent']}, got {parse['intent']['name']}"
        for example, parse in heldout_parses
        if parse["intent"]["name"] != example["intent"]
    )


def test_heldout_accuracy_and_macro_f1(heldout_parses: list[tuple[dict, dict]]) -> None:
    scores = intent_scores((e["intent"], p["intent"]["name"]) for e, p in heldout_parses)
    floors = FLOORS["overall"]
    assert scores.accuracy >= floors["accuracy"], wrong_answers(heldout_parses)
    assert scores.macro_f1 >= floors["macro_f1"], wrong_answers(heldout_parses)


def test_every_heldout_intent_meets_its_floor(heldout_parses: list[tuple[dict, dict]]) -> None:
    """A small intent that stops working fails here even when the overall figures still pass."""
    scores = intent_scores((e["intent"], p["intent"]["name"]) for e, p in heldout_parses)
    below = []
    for intent, score in sorted(scores.intents.items()):
        floor = intent_floor(FLOORS, intent)
        if score.recall < floor["recall"] or score.f1 < floor["f1"]:
            below.append(
                f"{intent} ({score.support} messages): recall {score.recall:.2f} (floor"
                f" {floor['recall']:.2f}), F1 {score.f1:.2f} (floor {floor['f1']:.2f})"
            )
    assert below == [], wrong_answers(heldout_parses)


def test_heldout_id_entities_are_exact(heldout_parses: list[tuple[dict, dict]]) -> None:
    """Every annotated ID is found with its exact value, and no ID is invented."""
    problems = []
    for example, parse in heldout_parses:
        expected = sorted(
            (entity["entity"], entity["value"])
            for entity in example["entities"]
            if entity["entity"] in ID_ENTITIES
        )
        found = sorted(
            (entity["entity"], entity["value"])
            for entity in parse.get("entities", [])
            if entity["entity"] in ID_ENTITIES
        )
        if expected != found:
            problems.append(f"{example['text']!r}: expected {expected}, got {found}")
    assert problems == [], "\n".join(problems)


def test_entity_positions_point_into_the_text_the_user_sent(
    heldout_parses: list[tuple[dict, dict]],
) -> None:
    """Positions are in the original text: the span of a case number typed with spaces still
    reads as that case number once the spaces are removed."""
    checked = 0
    for example, parse in heldout_parses:
        assert parse["text"] == example["text"]
        for entity in parse.get("entities", []):
            written = example["text"][entity["start"] : entity["end"]]
            if entity["entity"] in {"case_number", "tracking_number", "device_sn"}:
                assert written.replace(" ", "").replace("-", "").upper() == entity["value"]
                checked += 1
            elif entity["entity"] == "phone_number":
                assert "".join(char for char in written if char.isdigit()) == entity["value"]
                checked += 1
    assert checked > 0

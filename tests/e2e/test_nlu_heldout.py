"""The held-out NLU set parsed by the running Rasa server (the model the assistant really uses)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rasa.shared.nlu.training_data.loading import load_data

from tests.e2e.stack import API_TOKEN, PROJECT_ROOT, RasaStack

HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout_nlu.yml"
ID_ENTITIES = {"case_id", "phone_number", "tracking_number", "device_sn"}
MIN_INTENT_ACCURACY = 0.90

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


def test_heldout_intent_accuracy(heldout_parses: list[tuple[dict, dict]]) -> None:
    wrong = [
        f"{example['text']!r}: expected {example['intent']}, got {parse['intent']['name']}"
        for example, parse in heldout_parses
        if parse["intent"]["name"] != example["intent"]
    ]
    accuracy = 1 - len(wrong) / len(heldout_parses)
    assert accuracy >= MIN_INTENT_ACCURACY, "\n".join(wrong)


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
            if entity["entity"] in {"case_id", "tracking_number", "device_sn"}:
                assert written.replace(" ", "").replace("-", "").upper() == entity["value"]
                checked += 1
            elif entity["entity"] == "phone_number":
                assert "".join(char for char in written if char.isdigit()) == entity["value"]
                checked += 1
    assert checked > 0

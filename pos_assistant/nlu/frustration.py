"""Clear frustration with the assistant turns into a request for a human agent.

Runs after the intent classifier and before SafetyGuard, so that a scam warning still wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FRUSTRATION_INTENT = "request_human"
FRUSTRATION_FLAG = "frustration_detected"


def load_phrases(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [str(phrase) for phrase in yaml.safe_load(handle)["phrases"]]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FrustrationDetector(GraphComponent, IntentClassifier):
    """Sets intent request_human when a message contains a clear sign of frustration."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"phrases_file": "data/frustration.yml"}

    def __init__(self, phrases: list[str]) -> None:
        self._phrases = phrases

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FrustrationDetector:
        # The phrases are read when the graph is built (training and loading alike): the file
        # lives in the project, and a changed list takes effect without retraining DIET.
        return cls(load_phrases(PROJECT_ROOT / config["phrases_file"]))

    def is_frustrated(self, text: str) -> bool:
        return any(phrase in text for phrase in self._phrases)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or not self.is_frustrated(text):
                continue
            message.set(
                INTENT, {INTENT_NAME_KEY: FRUSTRATION_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            )
            message.set(FRUSTRATION_FLAG, True, add_to_output=True)
        return messages

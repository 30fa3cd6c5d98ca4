"""Clear frustration with the assistant turns into a request for a human agent.

Runs after the intent classifier and before SafetyGuard, so that a scam warning still wins.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu import project_files

FRUSTRATION_INTENT = "request_human"
FRUSTRATION_FLAG = "frustration_detected"


def load_phrases(path: str) -> list[str]:
    """The phrases of a frustration file (absolute, or relative to the project root)."""
    return [str(phrase) for phrase in project_files.read_yaml(path)["phrases"]]


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
        return cls(load_phrases(config["phrases_file"]))

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

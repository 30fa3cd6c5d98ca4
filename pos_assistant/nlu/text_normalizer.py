"""First pipeline component: hands the rest of the pipeline a normalized TEXT.

The replacement table (data/normalization.yml) is read at training time and stored in the model,
so a server started from any directory normalizes exactly as training did. The original text and
the character map stay on the message for EntityPositionRestorer (last in the pipeline).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from pos_assistant.nlu import message_keys, project_files
from pos_assistant.nlu.normalization import NormalizedText, TextNormalization

logger = logging.getLogger(__name__)

TABLE_FILE = "normalization.json"


def is_quick_reply_payload(text: str) -> bool:
    """Button payloads such as "/report_suspicious_call" are handled by Rasa, not by NLU."""
    return text.lstrip().startswith("/")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TextNormalizer(GraphComponent):
    """Full-width → half-width, Traditional → Simplified, filter-dodging spellings, compact IDs."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"table_path": "data/normalization.yml"}

    # No required_packages(): Rasa imports those names AND looks them up as distributions, and
    # opencc's import name ("opencc") differs from its distribution ("opencc-python-reimplemented").

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # Rasa's cache check may call this with another node's config: fall back to the default.
        path = config.get("table_path") or cls.get_default_config()["table_path"]
        return project_files.content_fingerprint(path)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        replacements: dict[str, str],
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._replacements = replacements
        self._normalization = TextNormalization(replacements)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        table = project_files.read_yaml(config["table_path"]).get("replacements") or {}
        replacements = {str(key): str(value) for key, value in table.items()}
        return cls(config, model_storage, resource, replacements)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TextNormalizer:
        with model_storage.read_from(resource) as directory:
            replacements = json.loads((directory / TABLE_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, replacements)

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / TABLE_FILE).write_text(
                json.dumps(self._replacements, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def normalize(self, text: str) -> NormalizedText:
        return self._normalization.normalize(text)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            text = message.get(TEXT)
            if not text or is_quick_reply_payload(text):
                continue
            normalized = self.normalize(text)
            message.set(TEXT, normalized.text)
            _move_annotations(message, normalized)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or is_quick_reply_payload(text):
                continue
            normalized = self.normalize(text)
            message.set(TEXT, normalized.text)
            message.set(
                message_keys.NORMALIZATION,
                {
                    "original": normalized.original,
                    "spans": [list(s) for s in normalized.spans],
                    "secrets": list(normalized.secrets),
                },
            )
        return messages


def _move_annotations(message: Message, normalized: NormalizedText) -> None:
    """Entity annotations of training examples must point into the normalized text."""
    for entity in message.get(ENTITIES) or []:
        if "start" not in entity or "end" not in entity:
            continue
        span = normalized.to_normalized_span(entity["start"], entity["end"])
        if span is None:
            logger.debug("Annotation %s vanished in normalization of %r", entity, message)
            continue
        entity["start"], entity["end"] = span

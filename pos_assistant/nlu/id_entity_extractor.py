"""Rule-based extraction of case numbers, phone numbers, tracking numbers, serials and amounts.

IDs have exact formats, so regexes (id_patterns.py) beat a statistical extractor here: they need
no annotated examples and never invent a digit. DIET runs with entity_recognition off.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu.id_patterns import find_ids
from pos_assistant.nlu.text_normalizer import is_quick_reply_payload


def entity_spans(message: Message) -> list[tuple[int, int]]:
    return [
        (entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
        for entity in message.get(ENTITIES) or []
        if ENTITY_ATTRIBUTE_START in entity and ENTITY_ATTRIBUTE_END in entity
    ]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class IdEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds case_number, phone_number, tracking_number, device_sn and amount entities."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IdEntityExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or is_quick_reply_payload(text):
                continue
            found = find_ids(text, taken=entity_spans(message))
            if not found:
                continue
            new_entities = [
                {
                    ENTITY_ATTRIBUTE_TYPE: entity.entity,
                    ENTITY_ATTRIBUTE_START: entity.start,
                    ENTITY_ATTRIBUTE_END: entity.end,
                    ENTITY_ATTRIBUTE_VALUE: entity.value,
                    ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
                }
                for entity in found
            ]
            self.add_extractor_name(new_entities)
            message.set(
                ENTITIES, [*(message.get(ENTITIES) or []), *new_entities], add_to_output=True
            )
        return messages

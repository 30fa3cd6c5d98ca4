"""Last pipeline component: entity positions and TEXT back in terms of what the user sent."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    TEXT,
    TEXT_TOKENS,
)
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu import message_keys
from pos_assistant.nlu.normalization import NormalizedText


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityPositionRestorer(GraphComponent):
    """Maps entity and token positions to the original text and restores the original TEXT.

    Registered as an entity extractor only so that the recipe runs it at prediction time; it
    extracts nothing itself.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityPositionRestorer:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            restore_original(message)
        return messages


def restore_original(message: Message) -> None:
    stored = message.get(message_keys.NORMALIZATION)
    if not stored:
        return
    normalized = NormalizedText(
        stored["original"], message.get(TEXT), tuple(tuple(span) for span in stored["spans"])
    )
    if len(normalized.text) != len(normalized.spans):
        # Something after the normalizer changed TEXT; positions cannot be trusted to map.
        message.set(TEXT, normalized.original)
        return
    for entity in message.get(ENTITIES) or []:
        if ENTITY_ATTRIBUTE_START in entity and ENTITY_ATTRIBUTE_END in entity:
            start, end = normalized.to_original_span(
                entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]
            )
            entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END] = start, end
    tokens = message.get(TEXT_TOKENS)
    if tokens:
        # The parse result lists token positions too (`text_tokens`); nothing after this reads them.
        message.set(TEXT_TOKENS, [_restored_token(token, normalized) for token in tokens])
    message.set(TEXT, normalized.original)


def _restored_token(token: Token, normalized: NormalizedText) -> Token:
    start, end = normalized.to_original_span(token.start, token.end)
    return Token(normalized.original[start:end], start, end, data=token.data, lemma=token.lemma)

"""Bounds what the intent featurizers and DIET read of a long message: its first and last tokens.

The featurizers and DIET cost grows with the number of tokens (DIET's attention with its square):
a 1,000-character message is about 500 tokens and cost 40–80 ms of CPU to parse, where a usual
message (under 40 tokens; the longest training example is 39) costs 6 ms. People who write that
much tell a story: how it began and what they ask at the end decide the intent. So after the IDs
and brands have been read from the whole text (the extractors before this component), only the
first `head` and last `tail` tokens go on to the featurizers, and the text they span to the
character n-gram classifier (LexicalIntentBlender). The safety guard and the scam phrases read
the whole text, never the tokens, so nothing long hides a warning.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from pos_assistant.nlu import message_keys


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TokenWindow(GraphComponent):
    """Keeps the first `head` and the last `tail` tokens of a message's text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"head": 64, "tail": 64}

    def __init__(self, head: int, tail: int) -> None:
        if head < 1 or tail < 0:
            raise ValueError("TokenWindow needs head >= 1 and tail >= 0")
        self.head = head
        self.tail = tail

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TokenWindow:
        return cls(int(config["head"]), int(config["tail"]))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples are far shorter than the window; applied anyway so that a long one
        # is featurized the way it would be read.
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            tokens = message.get(TEXT_TOKENS)
            if tokens and len(tokens) > self.head + self.tail:
                head, tail = tokens[: self.head], tokens[-self.tail :] if self.tail else []
                message.set(TEXT_TOKENS, head + tail)
                text = message.get(TEXT)
                kept_text = text[head[0].start : head[-1].end]
                if tail:
                    kept_text += " " + text[tail[0].start : tail[-1].end]
                message.set(message_keys.WINDOWED_TEXT, kept_text)
        return messages

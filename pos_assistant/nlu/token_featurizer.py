"""Common ground of the project's stateless sparse featurizers (ID shapes, message shapes).

They learn nothing, need jieba's tokens, and add one sequence and one sentence matrix per message;
a subclass only says how to compute them.
"""

from __future__ import annotations

from typing import Any

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

SparseMatrices = tuple[scipy.sparse.coo_matrix, scipy.sparse.coo_matrix]


class StatelessTokenFeaturizer(SparseFeaturizer, GraphComponent):
    """Adds `features(message, tokens)` (sequence, sentence) to every message with text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [JiebaTokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**SparseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to configure."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> StatelessTokenFeaturizer:
        return cls(execution_context.node_name, config)

    def features(self, message: Message, tokens: list[Token]) -> SparseMatrices:
        raise NotImplementedError

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT])
            if not tokens or not message.get(TEXT):
                continue
            sequence, sentence = self.features(message, tokens)
            self.add_features_to_message(sequence, sentence, TEXT, message)
        return messages

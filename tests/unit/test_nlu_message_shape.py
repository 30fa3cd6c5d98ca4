"""MessageShapeFeaturizer: what a message looks like, as sentence features for the classifier."""

from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from pos_assistant.nlu.message_shape_featurizer import (
    SHAPES,
    MessageShapeFeaturizer,
    message_shape,
)
from tests.unit.nlu_helpers import execution_context, trained_brand_extractor


@pytest.mark.parametrize(
    ("text", "entity_types", "expected"),
    [
        ("快钱的", {"brand"}, ["names_a_brand", "length_3_to_5"]),
        ("👍👍", set(), ["no_letters_at_all", "length_1_to_2"]),
        ("hhhhhh", set(), ["latin_letters_only", "repeated_character", "length_6_to_15"]),
        ("呜呜呜", set(), ["repeated_character", "length_3_to_5"]),
        ("brand is lakala", {"brand"}, ["names_a_brand", "latin_letters_only", "length_6_to_15"]),
        ("我没买过POS机却收到一台，还让我激活交押金", set(), ["length_over_15"]),
    ],
)
def test_shapes(text: str, entity_types: set[str], expected: list[str]) -> None:
    assert message_shape(text, entity_types) == expected


def test_features_are_added_as_sentence_features(tmp_path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = execution_context()
    tokenizer = JiebaTokenizer.create(
        JiebaTokenizer.get_default_config(), storage, Resource("tokenizer"), context
    )
    featurizer = MessageShapeFeaturizer.create(
        MessageShapeFeaturizer.get_default_config(), storage, Resource("shape"), context
    )
    message = Message({TEXT: "是拉卡拉的", ENTITIES: [{"entity": "brand", "value": "拉卡拉"}]})
    tokenizer.process([message])
    featurizer.process([message])
    sequence, sentence = message.get_sparse_features(TEXT)
    assert sentence.features.shape == (1, len(SHAPES))
    assert sentence.features.toarray()[0, SHAPES.index("names_a_brand")] == 1.0
    assert sequence.features.shape[1] == len(SHAPES)


def test_training_messages_name_their_brands_like_parsed_ones(tmp_path) -> None:
    extractor = trained_brand_extractor(LocalModelStorage(tmp_path))
    message = Message({TEXT: "机器是乐刷的", "intent": "inform"})
    extractor.process_training_data(TrainingData(training_examples=[message]))
    assert [entity["value"] for entity in message.get(ENTITIES)] == ["乐刷"]

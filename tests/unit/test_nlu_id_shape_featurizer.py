"""IdShapeFeaturizer: which ID kinds a message and each of its tokens contain."""

from __future__ import annotations

from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu.id_shape_featurizer import (
    FEATURE_COUNT,
    ID_KINDS,
    ONLY_IDS,
    IdShapeFeaturizer,
    featurize,
)
from tests.unit.nlu_helpers import execution_context


def test_a_bare_phone_number_is_marked_as_nothing_but_ids() -> None:
    sequence, sentence = featurize("18711112222", [(0, 11)])
    row = sentence.toarray()[0]
    assert row[ID_KINDS.index("phone_number")] == 1
    assert row[ONLY_IDS] == 1
    assert sequence.toarray()[0][ID_KINDS.index("phone_number")] == 1


def test_a_case_number_with_a_question_is_not_only_ids() -> None:
    sequence, sentence = featurize("CS2611280066现在什么状态", [(0, 12), (12, 14), (14, 18)])
    row = sentence.toarray()[0]
    assert row[ID_KINDS.index("case_number")] == 1
    assert row[ONLY_IDS] == 0
    assert sequence.toarray()[:, ID_KINDS.index("case_number")].tolist() == [1, 0, 0]


def test_plain_text_has_no_id_features() -> None:
    _, sentence = featurize("押金什么时候退", [(0, 2), (2, 7)])
    assert sentence.toarray().sum() == 0


def test_component_adds_sparse_features_of_the_right_shape(tmp_path) -> None:
    featurizer = IdShapeFeaturizer.create(
        IdShapeFeaturizer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("shape"),
        execution_context(),
    )
    message = Message({TEXT: "手机13812345678"})
    message.set(TOKENS_NAMES[TEXT], [Token("手机", 0), Token("13812345678", 2)])
    featurizer.process([message])
    sequence, sentence = message.get_sparse_features(TEXT)
    assert sequence.features.shape == (2, FEATURE_COUNT)
    assert sentence.features.shape == (1, FEATURE_COUNT)

"""LexicalIntentBlender: trains, survives a save and load, and blends DIET's distribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from pos_assistant.nlu.lexical_intent_blender import LexicalIntentBlender, blend
from pos_assistant.nlu.message_keys import INTENT_SOURCES, WINDOWED_TEXT
from tests.unit.nlu_helpers import execution_context

TRAINING = {
    "greet": ["你好", "您好", "hello", "hi 在吗", "哈喽"],
    "thank": ["谢谢", "多谢了", "thanks", "thx", "感谢"],
    "report_unordered_device": ["没买过POS机却收到一台", "莫名其妙寄来个刷卡机", "收到没订的pos"],
}


def trained(tmp_path: Path, **config: object) -> LexicalIntentBlender:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("blender")
    full_config = {**LexicalIntentBlender.get_default_config(), **config}
    examples = [
        Message({TEXT: text, INTENT: intent})
        for intent, texts in TRAINING.items()
        for text in texts
    ]
    LexicalIntentBlender.create(full_config, storage, resource, execution_context()).train(
        TrainingData(training_examples=examples)
    )
    return LexicalIntentBlender.load(full_config, storage, resource, execution_context())


def diet_says(text: str, ranking: dict[str, float]) -> Message:
    best = max(ranking, key=ranking.__getitem__)
    return Message(
        {
            TEXT: text,
            INTENT: {"name": best, "confidence": ranking[best]},
            INTENT_RANKING_KEY: [
                {"name": name, "confidence": value} for name, value in ranking.items()
            ],
        }
    )


def test_blend_is_a_weighted_average() -> None:
    mixed = blend({"a": 0.8, "b": 0.2}, {"a": 0.2, "b": 0.6, "c": 0.2}, lexical_weight=0.25)
    assert mixed == pytest.approx({"a": 0.65, "b": 0.3, "c": 0.05})


def test_a_loaded_model_corrects_an_unsure_neural_guess(tmp_path: Path) -> None:
    blender = trained(tmp_path)
    unsure = {"greet": 0.30, "thank": 0.36, "report_unordered_device": 0.34}
    [message] = blender.process([diet_says("谢谢啦", unsure)])
    assert message.get(INTENT)["name"] == "thank"
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] == "thank"
    assert sum(item["confidence"] for item in ranking) == pytest.approx(1.0)
    assert message.get(INTENT_SOURCES) is None


def test_weight_zero_keeps_the_neural_answer(tmp_path: Path) -> None:
    blender = trained(tmp_path, lexical_weight=0.0)
    neural = {"greet": 0.6, "thank": 0.3, "report_unordered_device": 0.1}
    [message] = blender.process([diet_says("谢谢", neural)])
    assert message.get(INTENT) == {"name": "greet", "confidence": pytest.approx(0.6)}


def test_sources_are_reported_only_when_asked(tmp_path: Path) -> None:
    blender = trained(tmp_path, report_sources=True)
    [message] = blender.process([diet_says("你好", {"greet": 0.9, "thank": 0.1})])
    sources = message.get(INTENT_SOURCES)
    assert sources["neural"] == {"greet": 0.9, "thank": 0.1}
    assert max(sources["lexical"], key=sources["lexical"].__getitem__) == "greet"


def test_a_long_message_is_classified_by_the_text_of_its_window(tmp_path: Path) -> None:
    blender = trained(tmp_path, report_sources=True)
    message = diet_says("谢谢 " + "嗯" * 400, {"greet": 0.5, "thank": 0.5})
    message.set(WINDOWED_TEXT, "你好")  # what TokenWindow kept of it
    [message] = blender.process([message])
    lexical = message.get(INTENT_SOURCES)["lexical"]
    assert lexical == blender.lexical_distribution("你好")
    assert max(lexical, key=lexical.__getitem__) == "greet"


def test_messages_without_a_neural_ranking_are_left_alone(tmp_path: Path) -> None:
    blender = trained(tmp_path)
    [message] = blender.process([Message({TEXT: ""})])
    assert message.get(INTENT) is None


def test_the_loaded_weights_are_laid_out_for_one_message_and_give_the_same_probabilities(
    tmp_path: Path,
) -> None:
    blender = trained(tmp_path)
    model = blender._model
    assert model is not None
    classifier = model[-1]
    assert classifier.coef_.T.flags["C_CONTIGUOUS"]  # scipy multiplies without copying them
    texts = ["谢谢啦", "你好呀", "收到一台没买的刷卡机", "hello thx"]
    fortran = model.predict_proba(texts)
    classifier.coef_ = np.ascontiguousarray(classifier.coef_)
    assert (model.predict_proba(texts) == fortran).all()

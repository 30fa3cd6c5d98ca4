"""Blends DIET's intent distribution with a character n-gram logistic regression.

DIET learns from word and character features through a transformer; a character 1-3-gram TF-IDF
logistic regression makes different mistakes (it is steadier on very short messages, one-word
English and chitchat, where DIET's confidence is spread thin). Averaging the two distributions is
a small, well-known ensemble; its weight was chosen by cross-validation on the training data
(scripts/cross_validate_nlu.py), never on the held-out set.

Runs right after DIET (which must report every intent: `ranking_length: 0`) and before the
FallbackClassifier, which then thresholds the blended confidence.
"""

from __future__ import annotations

import logging
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from pos_assistant.nlu import message_keys

logger = logging.getLogger(__name__)

MODEL_FILE = "lexical_intent_model.joblib"
# How many intents the blended ranking reports (Rasa's usual ranking length).
RANKING_LENGTH = 10

Distribution = dict[str, float]


def build_lexical_model(
    max_ngram: int, regularization_strength: float, random_seed: int
) -> Pipeline:
    """Character 1..max_ngram TF-IDF + logistic regression over the normalized text."""
    return make_pipeline(
        TfidfVectorizer(
            analyzer="char", ngram_range=(1, max_ngram), sublinear_tf=True, lowercase=True
        ),
        LogisticRegression(max_iter=3000, C=regularization_strength, random_state=random_seed),
    )


def _ready_for_single_messages(model: Pipeline) -> Pipeline:
    """The same model with its weights laid out for one message at a time.

    The logistic regression scores a message as `features @ coef_.T`. scipy multiplies a sparse
    matrix only by a C-ordered dense one, so with the usual C-ordered `coef_` (intents x n-grams)
    every message copied all the weights first (3 MB). Fortran order makes `coef_.T` C-ordered;
    the numbers, and so every probability, are the same.
    """
    classifier = model[-1]
    classifier.coef_ = np.asfortranarray(classifier.coef_)
    return model


def blend(neural: Distribution, lexical: Distribution, lexical_weight: float) -> Distribution:
    """Weighted average of two distributions over intents (a missing intent counts as 0)."""
    intents = set(neural) | set(lexical)
    return {
        intent: (1 - lexical_weight) * neural.get(intent, 0.0)
        + lexical_weight * lexical.get(intent, 0.0)
        for intent in intents
    }


def ranking_as_distribution(ranking: list[dict[str, Any]]) -> Distribution:
    return {
        str(item[INTENT_NAME_KEY]): float(item[PREDICTED_CONFIDENCE_KEY])
        for item in ranking
        if item.get(INTENT_NAME_KEY)
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LexicalIntentBlender(GraphComponent, IntentClassifier):
    """Sets intent and intent_ranking to a blend of DIET's and a char n-gram model's."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "lexical_weight": 0.5,
            "max_ngram": 3,
            "regularization_strength": 10.0,
            "random_seed": 2611,
            # For scripts/cross_validate_nlu.py: put both full distributions in the parse so
            # blend weights can be compared without retraining. Off in config.yml.
            "report_sources": False,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Pipeline | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LexicalIntentBlender:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LexicalIntentBlender:
        with model_storage.read_from(resource) as directory:
            model = joblib.load(directory / MODEL_FILE)
        return cls(config, model_storage, resource, _ready_for_single_messages(model))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [
            message
            for message in training_data.intent_examples
            if message.get(TEXT) and message.get(INTENT)
        ]
        model = build_lexical_model(
            self._config["max_ngram"],
            self._config["regularization_strength"],
            self._config["random_seed"],
        )
        model.fit([message.get(TEXT) for message in examples], [m.get(INTENT) for m in examples])
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / MODEL_FILE)
        self._model = _ready_for_single_messages(model)
        return self._resource

    def lexical_distribution(self, text: str) -> Distribution:
        if self._model is None:
            return {}
        probabilities = self._model.predict_proba([text])[0]
        return {
            str(intent): float(probability)
            for intent, probability in zip(self._model.classes_, probabilities, strict=True)
        }

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            neural = ranking_as_distribution(message.get(INTENT_RANKING_KEY) or [])
            if not text.strip() or not neural or self._model is None:
                continue
            # A long message is read through the same window as DIET's tokens (TokenWindow).
            lexical = self.lexical_distribution(message.get(message_keys.WINDOWED_TEXT) or text)
            blended = blend(neural, lexical, self._config["lexical_weight"])
            ranking = sorted(blended.items(), key=lambda item: item[1], reverse=True)
            message.set(
                INTENT,
                {INTENT_NAME_KEY: ranking[0][0], PREDICTED_CONFIDENCE_KEY: ranking[0][1]},
                add_to_output=True,
            )
            message.set(
                INTENT_RANKING_KEY,
                [
                    {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
                    for intent, confidence in ranking[:RANKING_LENGTH]
                ],
                add_to_output=True,
            )
            if self._config["report_sources"]:
                message.set(
                    message_keys.INTENT_SOURCES,
                    {"neural": neural, "lexical": lexical},
                    add_to_output=True,
                )
        return messages

"""Builds the custom NLU components the way Rasa's graph does, on a temporary model storage."""

from __future__ import annotations

from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from pos_assistant.nlu.entity_position_restorer import EntityPositionRestorer
from pos_assistant.nlu.id_entity_extractor import IdEntityExtractor
from pos_assistant.nlu.safety_guard import SafetyGuard
from pos_assistant.nlu.spacy_brand_extractor import SpacyBrandExtractor
from pos_assistant.nlu.text_normalizer import TextNormalizer
from tests.paths import PROJECT_ROOT


def execution_context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


def trained_normalizer(storage: LocalModelStorage) -> TextNormalizer:
    """Trains into `storage`, then loads from it (the path the server takes)."""
    resource = Resource("train_TextNormalizer0")
    config = {**TextNormalizer.get_default_config()}
    TextNormalizer.create(config, storage, resource, execution_context()).train(TrainingData())
    return TextNormalizer.load(config, storage, resource, execution_context())


def trained_brand_extractor(
    storage: LocalModelStorage, brands_path: str = "data/brands.yml"
) -> SpacyBrandExtractor:
    resource = Resource("train_SpacyBrandExtractor0")
    config = {**SpacyBrandExtractor.get_default_config(), "brands_path": brands_path}
    SpacyBrandExtractor.create(config, storage, resource, execution_context()).train(TrainingData())
    return SpacyBrandExtractor.load(config, storage, resource, execution_context())


class CustomPipeline:
    """Normalizer → ID extractor → brand extractor → safety guard → position restorer."""

    def __init__(self, tmp_path: Path) -> None:
        storage = LocalModelStorage(tmp_path)
        context = execution_context()
        self.normalizer = trained_normalizer(storage)
        self.ids = IdEntityExtractor.create({}, storage, Resource("ids"), context)
        self.brands = trained_brand_extractor(storage)
        self.guard = SafetyGuard.create({}, storage, Resource("guard"), context)
        self.restorer = EntityPositionRestorer.create({}, storage, Resource("restorer"), context)

    def parse(self, text: str) -> Message:
        messages = [Message({TEXT: text})]
        for component in (self.normalizer, self.ids, self.brands, self.guard, self.restorer):
            messages = component.process(messages)
        return messages[0]


def training_and_held_out_texts() -> list[str]:
    """Every NLU training example and held-out message: what the model learns and is scored on."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        example.get(TEXT)
        for source in (PROJECT_ROOT / "data" / "nlu", PROJECT_ROOT / "tests/nlu/heldout_nlu.yml")
        for example in load_data(str(source)).training_examples
    ]

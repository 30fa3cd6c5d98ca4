"""Brand entities from a spaCy entity ruler built from data/brands.yml.

Why spaCy: the ruler matches whole jieba tokens, so 中付 is found in "中付的机器" but not inside
"其中付款", and English names match case-insensitively (Lakala, LAKALA). The spaCy pipeline is
built at training time and saved into Rasa's model storage, so it travels inside the model archive
and nothing depends on the directory the server starts from.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from rasa.shared.nlu.training_data.training_data import TrainingData

from pos_assistant.nlu import project_files
from pos_assistant.nlu.brands import DICTIONARY_FREQUENCY, Brand, load_brands
from pos_assistant.nlu.id_entity_extractor import entity_spans
from pos_assistant.nlu.spans import TakenSpans
from pos_assistant.nlu.text_normalizer import is_quick_reply_payload

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

logger = logging.getLogger(__name__)

BRAND_ENTITY = "brand"
PIPELINE_DIR = "spacy_brand_pipeline"
SPELLINGS_FILE = "brand_spellings.json"


def build_brand_pipeline(brands: list[Brand]) -> Language:
    """A blank Chinese spaCy pipeline (jieba segmentation) with an entity ruler for `brands`."""
    import spacy

    add_brands_to_jieba(spelling for brand in brands for spelling in brand.spellings)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(
        [
            {"label": BRAND_ENTITY, "pattern": spelling.lower(), "id": brand.name}
            for brand in brands
            for spelling in brand.spellings
        ]
    )
    return nlp


def add_brands_to_jieba(spellings: Any) -> None:
    """Keeps every brand one jieba token, whether or not the JiebaTokenizer loaded its folder."""
    import jieba

    for spelling in spellings:
        jieba.add_word(spelling, freq=DICTIONARY_FREQUENCY)
        jieba.add_word(spelling.lower(), freq=DICTIONARY_FREQUENCY)


def jieba_words_and_spaces(text: str) -> tuple[list[str], list[bool]]:
    """The words and spaces spaCy's Chinese (jieba) tokenizer makes, in time linear in len(text).

    spaCy 3's tokenizer aligns each jieba word with `text[position:].index(word)`, copying the
    rest of the text for every word: n² steps on a long message. Same words, same spaces here.
    """
    import jieba

    words = [word for word in jieba.cut(text, cut_all=False) if word]
    if "".join("".join(words).split()) != "".join(text.split()):
        raise ValueError(f"jieba's words do not spell the text: {text[:80]!r}")
    text_words: list[str] = []
    text_spaces: list[bool] = []
    position = 0
    for word in words:
        if word.isspace():
            continue
        word_start = text.index(word, position)
        if word_start > position:  # whitespace other than one space between words
            text_words.append(text[position:word_start])
            text_spaces.append(False)
            position = word_start
        text_words.append(word)
        text_spaces.append(False)
        position += len(word)
        if position < len(text) and text[position] == " ":
            text_spaces[-1] = True
            position += 1
    if position < len(text):
        text_words.append(text[position:])
        text_spaces.append(False)
    return text_words, text_spaces


def make_jieba_doc(vocab: Vocab, text: str) -> Doc:
    """The Doc spaCy's Chinese tokenizer makes of `text` (see jieba_words_and_spaces)."""
    from spacy.tokens import Doc

    words, spaces = jieba_words_and_spaces(text)
    return Doc(vocab, words=words, spaces=spaces)


# Stands for every word that is in no brand pattern: the ruler cannot match it, and random text
# does not add a new string to spaCy's vocabulary (which only grows) for every unknown word.
_OTHER_WORD = "\ue000"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class SpacyBrandExtractor(GraphComponent, EntityExtractorMixin):
    """Adds `brand` entities whose value is the brand's canonical name."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Resolved against the project root at training time only.
        return {"brands_path": "data/brands.yml"}

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy", "jieba"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # Rasa's cache check may call this with another node's config: fall back to the default.
        path = config.get("brands_path") or cls.get_default_config()["brands_path"]
        return project_files.content_fingerprint(path)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        nlp: Language | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._nlp = nlp
        self._known_words: frozenset[str] | None = None
        self._compact_patterns: tuple[str, ...] | None = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyBrandExtractor:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SpacyBrandExtractor:
        import spacy

        with model_storage.read_from(resource) as directory:
            # The ruler re-segments its patterns on load: jieba must know the brands first.
            spellings = json.loads((Path(directory) / SPELLINGS_FILE).read_text("utf-8"))
            add_brands_to_jieba(spellings)
            nlp = spacy.load(Path(directory) / PIPELINE_DIR)
        return cls(config, model_storage, resource, nlp)

    def train(self, training_data: TrainingData) -> Resource:
        brands = load_brands(self._config["brands_path"])
        self._nlp = build_brand_pipeline(brands)
        self._known_words = None
        self._compact_patterns = None
        with self._model_storage.write_to(self._resource) as directory:
            self._nlp.to_disk(Path(directory) / PIPELINE_DIR)
            spellings = [spelling for brand in brands for spelling in brand.spellings]
            (Path(directory) / SPELLINGS_FILE).write_text(
                json.dumps(spellings, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def extract(self, text: str) -> list[dict[str, Any]]:
        if self._nlp is None:
            raise RuntimeError("SpacyBrandExtractor used before training or loading")
        from spacy.tokens import Doc

        if not self.may_name_a_brand(text):
            return []
        words, spaces = jieba_words_and_spaces(text)
        offsets: list[tuple[int, int]] = []
        position = 0
        for word, space in zip(words, spaces, strict=True):
            offsets.append((position, position + len(word)))
            position += len(word) + space
        known = self._brand_words()
        doc = Doc(
            self._nlp.vocab,
            words=[w if w.isspace() or w.lower() in known else _OTHER_WORD for w in words],
            spaces=spaces,
        )
        for _, component in self._nlp.pipeline:
            doc = component(doc)
        return [
            {
                ENTITY_ATTRIBUTE_TYPE: BRAND_ENTITY,
                ENTITY_ATTRIBUTE_START: offsets[span.start][0],
                ENTITY_ATTRIBUTE_END: offsets[span.end - 1][1],
                ENTITY_ATTRIBUTE_VALUE: span.ent_id_
                or text[offsets[span.start][0] : offsets[span.end - 1][1]],
                ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
            }
            for span in doc.ents
            if span.label_ == BRAND_ENTITY
        ]

    def may_name_a_brand(self, text: str) -> bool:
        """False when no brand pattern can match: segmenting with jieba and running the ruler is
        most of this component's cost, and most messages name no brand.

        A ruler match is consecutive tokens whose lower-case texts are a pattern's words, so the
        pattern's letters appear in a row in the lower-cased text once whitespace is removed.
        """
        compact = "".join(text.lower().split())
        return any(pattern in compact for pattern in self._patterns_without_whitespace())

    def _patterns_without_whitespace(self) -> tuple[str, ...]:
        if self._compact_patterns is None:
            assert self._nlp is not None
            ruler = self._nlp.get_pipe("entity_ruler")
            self._compact_patterns = tuple(
                {
                    "".join(pattern["pattern"].lower().split())
                    for pattern in ruler.patterns
                    if isinstance(pattern["pattern"], str)
                }
            )
        return self._compact_patterns

    def _brand_words(self) -> frozenset[str]:
        """The lower-case words of every brand pattern, as the ruler segmented them."""
        if self._known_words is None:
            assert self._nlp is not None
            ruler = self._nlp.get_pipe("entity_ruler")
            self._known_words = frozenset(
                word.lower()
                for pattern in ruler.patterns
                if isinstance(pattern["pattern"], str)
                for word in jieba_words_and_spaces(pattern["pattern"])[0]
            )
        return self._known_words

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training messages then name their brands exactly as parsed messages will, annotated or
        # not, so features built on entities (MessageShapeFeaturizer) mean the same in both.
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or is_quick_reply_payload(text):
                continue
            taken = TakenSpans(entity_spans(message))
            found = [
                entity
                for entity in self.extract(text)
                if not taken.overlaps(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
            ]
            if found:
                self.add_extractor_name(found)
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), *found], add_to_output=True)
        return messages

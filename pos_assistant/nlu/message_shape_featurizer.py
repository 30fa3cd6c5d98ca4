"""Tells the intent classifier what a message looks like, beyond its words.

Cross-validation on the training data showed two kinds of message that bag-of-words features get
wrong: a bare brand name ("快钱的", "lakala") given as information, and messages made of nothing
the model has seen (emoji, "hhhhhh", "呜呜呜", one unknown word), which land in whichever chitchat
intent is closest. A handful of sentence-level features (a brand is named, only symbols, a
character repeated, English only, how long) let DIET learn those shapes from a few examples.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu.token_featurizer import SparseMatrices, StatelessTokenFeaturizer

BRAND_ENTITY = "brand"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_REPEATED = re.compile(r"(.)\1{2,}")
_WHITESPACE = re.compile(r"\s+")

SHAPES = (
    "names_a_brand",
    "no_letters_at_all",  # emoji, punctuation, digits only
    "latin_letters_only",  # English or pinyin, no Chinese
    "repeated_character",  # 呜呜呜, hhhhhh, 2333
    "length_1_to_2",
    "length_3_to_5",
    "length_6_to_15",
    "length_over_15",
)


def message_shape(text: str, entity_types: set[str]) -> list[str]:
    """The SHAPES that describe `text` (normalized, as the classifier sees it)."""
    compact = _WHITESPACE.sub("", text)
    has_cjk = bool(_CJK.search(compact))
    has_latin = bool(_LATIN.search(compact))
    shapes = []
    if BRAND_ENTITY in entity_types:
        shapes.append("names_a_brand")
    if not has_cjk and not has_latin:
        shapes.append("no_letters_at_all")
    if has_latin and not has_cjk:
        shapes.append("latin_letters_only")
    if _REPEATED.search(compact.lower()):
        shapes.append("repeated_character")
    length = len(compact)
    if length <= 2:
        shapes.append("length_1_to_2")
    elif length <= 5:
        shapes.append("length_3_to_5")
    elif length <= 15:
        shapes.append("length_6_to_15")
    else:
        shapes.append("length_over_15")
    return shapes


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MessageShapeFeaturizer(StatelessTokenFeaturizer):
    """Sentence-level sparse features: brand named, symbols only, English only, length."""

    def features(self, message: Message, tokens: list[Token]) -> SparseMatrices:
        entity_types = {entity.get("entity") for entity in message.get(ENTITIES) or []}
        sentence = np.zeros((1, len(SHAPES)), dtype=np.float32)
        for shape in message_shape(message.get(TEXT), entity_types):
            sentence[0, SHAPES.index(shape)] = 1.0
        # Rasa wants sequence features too: zeros per token (the shape is the sentence's).
        sequence = np.zeros((len(tokens), len(SHAPES)), dtype=np.float32)
        return scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence)

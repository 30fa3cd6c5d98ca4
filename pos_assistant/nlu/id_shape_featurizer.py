"""Tells the intent classifier which kinds of ID a message contains.

"18711112222" or "CS2611280066现在什么状态" mean little to bag-of-words features (every number is
a different, unseen token). A few sparse features per token and per sentence (contains a phone
number / case number / ..., consists of nothing but IDs) let DIET learn "a bare phone number is
`inform`" and "a case number with a question is `check_case_status`" from a handful of examples.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu.id_patterns import (
    AMOUNT,
    CASE_NUMBER,
    DEVICE_SN,
    PHONE_NUMBER,
    TRACKING_NUMBER,
    find_ids,
)
from pos_assistant.nlu.spans import SortedSpans
from pos_assistant.nlu.token_featurizer import SparseMatrices, StatelessTokenFeaturizer

ID_KINDS = (CASE_NUMBER, PHONE_NUMBER, TRACKING_NUMBER, DEVICE_SN, AMOUNT)
ONLY_IDS = len(ID_KINDS)  # index of the "nothing but IDs" feature
FEATURE_COUNT = len(ID_KINDS) + 1
_FILLER = re.compile(r"[\s,.:;!?，。：；！？、\[\]()（）\"'“”]*")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class IdShapeFeaturizer(StatelessTokenFeaturizer):
    """Sparse features: which ID kinds a token / the message contains."""

    def features(self, message: Message, tokens: list[Token]) -> SparseMatrices:
        return featurize(message.get(TEXT), [(token.start, token.end) for token in tokens])


def featurize(text: str, token_spans: list[tuple[int, int]]) -> SparseMatrices:
    found = find_ids(text)
    sequence = np.zeros((len(token_spans), FEATURE_COUNT), dtype=np.float32)
    sentence = np.zeros((1, FEATURE_COUNT), dtype=np.float32)
    tokens = SortedSpans(token_spans) if SortedSpans.fits(token_spans) else None
    for entity in found:
        column = ID_KINDS.index(entity.entity)
        sentence[0, column] = 1.0
        if tokens is not None:  # tokens in text order: look only at those the entity covers
            sequence[list(tokens.overlapping(entity.start, entity.end)), column] = 1.0
            continue
        for row, (start, end) in enumerate(token_spans):
            if entity.overlaps(start, end):
                sequence[row, column] = 1.0
    if found:
        rest = list(text)
        for entity in found:
            rest[entity.start : entity.end] = [""] * (entity.end - entity.start)
        if _FILLER.fullmatch("".join(rest)):
            sentence[0, ONLY_IDS] = 1.0
    return scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence)

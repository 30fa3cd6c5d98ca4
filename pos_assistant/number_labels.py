"""The words that label a number (verification code, device serial, waybill), from
data/number_labels.yml: one vocabulary for masking, secret detection, ID extraction and the
scam warning."""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from pos_assistant.settings import PROJECT_ROOT

NUMBER_LABELS_PATH = PROJECT_ROOT / "data" / "number_labels.yml"


@lru_cache(maxsize=1)
def number_labels() -> dict[str, tuple[str, ...]]:
    """Kind of number → the words that label it, in file order."""
    raw = yaml.safe_load(NUMBER_LABELS_PATH.read_text(encoding="utf-8"))
    return {str(kind): tuple(str(word) for word in words) for kind, words in raw.items()}


def label_alternatives(kind: str) -> str:
    """The labels of one kind as a regex alternation ("验证码|校验码|…"), longest first so a
    longer label is never cut short by a shorter one it starts with."""
    words = sorted(number_labels()[kind], key=len, reverse=True)
    return "|".join(re.escape(word) for word in words)

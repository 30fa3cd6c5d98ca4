"""The held-out NLU set must stay unseen: no training message may (nearly) repeat one of it.

Short everyday messages ("你好", "ok") are easy to write twice by accident; a copy in the training
data would turn a held-out figure into a training figure.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path

from rasa.shared.nlu.training_data.loading import load_data

from pos_assistant.nlu.normalization import TextNormalization
from tests.paths import PROJECT_ROOT

NEAR_COPY_RATIO = 0.9
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _normalization() -> TextNormalization:
    return TextNormalization({})


def comparable(text: str) -> str:
    """Simplified, half-width, lower case, without spaces, punctuation or emoji (unless that is
    all the message has)."""
    normalized = _normalization().normalize(text).text.lower()
    return _NOT_WORD.sub("", normalized) or "".join(normalized.split())


def texts(path: Path) -> list[str]:
    return [message.get("text") for message in load_data(str(path)).intent_examples]


def near_copies(training: list[str], heldout: list[str]) -> list[str]:
    """Training messages that equal, or nearly equal, a held-out message."""
    heldout_forms = {comparable(text) for text in heldout}
    found = []
    for text in training:
        form = comparable(text)
        matcher = difflib.SequenceMatcher(None, b=form, autojunk=False)
        for other in heldout_forms:
            matcher.set_seq1(other)
            if form == other or (
                matcher.real_quick_ratio() >= NEAR_COPY_RATIO
                and matcher.quick_ratio() >= NEAR_COPY_RATIO
                and matcher.ratio() >= NEAR_COPY_RATIO
            ):
                found.append(text)
                break
    return found


def test_the_comparison_catches_copies_that_differ_only_in_form() -> None:
    assert near_copies(["OK！", "好的 👌", "我沒收到贈品"], ["ok", "好的", "我没收到赠品"]) == [
        "OK！",
        "好的 👌",
        "我沒收到贈品",
    ]
    assert near_copies(["你好呀", "👍👍"], ["你好", "🙏"]) == []


def test_no_training_message_repeats_a_heldout_message() -> None:
    copies = near_copies(
        texts(PROJECT_ROOT / "data/nlu"), texts(PROJECT_ROOT / "tests/nlu/heldout_nlu.yml")
    )
    assert copies == [], f"training messages that repeat held-out ones: {copies}"

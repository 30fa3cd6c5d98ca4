"""Scam topics from data/scam_phrases.yml: groups of literal phrases, one of each must appear.

Kept as data, not regexes, so the support lead can add the wording people use, and matching stays
linear (plain substring search). SafetyGuard adds these topics to its own.
"""

from __future__ import annotations

from functools import lru_cache

from pos_assistant.nlu import project_files

SCAM_PHRASES_FILE = "data/scam_phrases.yml"


@lru_cache(maxsize=1)
def phrase_topics() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Topic → its phrase groups (lower case), read once from data/scam_phrases.yml."""
    table = project_files.read_yaml(SCAM_PHRASES_FILE).get("topics") or {}
    return {
        str(topic): tuple(tuple(str(p).lower() for p in group) for group in groups)
        for topic, groups in table.items()
    }


def matching_phrase_topics(text: str) -> list[str]:
    """The topics of data/scam_phrases.yml that `text` (normalized) matches."""
    lowered = text.lower()
    return [
        topic
        for topic, groups in phrase_topics().items()
        if all(any(phrase in lowered for phrase in group) for group in groups)
    ]

"""The console's texts (data/console.yml): suggested-reply drafts, flag names, page messages."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pos_assistant.settings import PROJECT_ROOT

TEXTS_PATH = PROJECT_ROOT / "data" / "console.yml"
TOPICS_PATH = PROJECT_ROOT / "data" / "topics.yml"


@lru_cache(maxsize=1)
def console_texts(path: Path = TEXTS_PATH) -> dict[str, Any]:
    texts = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for section in ("suggestions", "flags", "page"):
        if not isinstance(texts.get(section), dict):
            raise ValueError(f"{path}: section {section!r} is missing")
    if not isinstance(texts.get("requeued_notice"), str):
        raise ValueError(f"{path}: requeued_notice is missing")
    return texts


@lru_cache(maxsize=1)
def intent_labels(path: Path = TOPICS_PATH) -> dict[str, str]:
    """Chinese names of the intents that have one (the topic labels of data/topics.yml)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key): str(value) for key, value in (data.get("topics") or {}).items()}

"""The photo replies (data/channels/photos.yml), filled in."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pos_assistant.attachments.evidence import advice_state, evidence_text
from pos_assistant.attachments.inbox import PhotosRefused, Receipt

TEXTS_PATH = Path(__file__).resolve().parents[2] / "data" / "channels" / "photos.yml"


@lru_cache(maxsize=1)
def photo_texts() -> dict[str, Any]:
    return yaml.safe_load(TEXTS_PATH.read_text(encoding="utf-8"))


def receipt_text(receipt: Receipt, tracker: Mapping[str, Any] | None = None) -> str:
    """The receipt; with the conversation's tracker state during a situation's advice, the
    evidence checklist after it (pos_assistant/attachments/evidence.py)."""
    texts = photo_texts()
    if receipt.case_number:
        text = texts["received_to_case"].format(
            count=receipt.count, case_number=receipt.case_number
        )
    else:
        text = texts["received_held"].format(count=receipt.count)
    checklist = evidence_text(advice_state(tracker), receipt.conversation_total, texts["evidence"])
    return f"{text}\n{checklist}" if checklist else text


def refusal_text(refusal: PhotosRefused, *, max_bytes: int, max_count: int) -> str:
    template = (
        photo_texts()["refused"].get(refusal.reason) or photo_texts()["refused"]["unavailable"]
    )
    return template.format(
        position=refusal.position or 1, max_mb=max_bytes // (1024 * 1024), max_count=max_count
    )

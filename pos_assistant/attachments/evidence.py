"""The evidence checklist added to a photo receipt during a situation's advice.

Most situations' steps start with "keep evidence: photograph the parcel, the waybill, the
terminal and its serial number". When photos arrive while the user is in a situation's advice
(its form is asking, or its steps were sent), the receipt also says what the situation's
`evidence_checklist` (data/knowledge/) asks for, given the answers so far: the items an ID the
user already typed covers (waybill, serial number) are done; the others are listed, with the
photos the conversation sent counted against them (a photo cannot tell which item it shows).
Texts: data/channels/photos.yml `evidence`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pos_assistant.knowledge import KnowledgeError, get_knowledge_base
from pos_assistant.situations import RegistryError, situations

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdviceState:
    """Where a conversation is in a situation's advice, read from its tracker."""

    situation: str
    answers: dict[str, bool | None]
    typed: frozenset[str]  # ID slots the user has typed a number into


def advice_state(tracker: Mapping[str, Any] | None) -> AdviceState | None:
    """From a tracker's state (Rasa's JSON: `slots`, `active_loop`): the situation whose form is
    active, else the one whose steps were sent (`situation` slot); None outside any advice."""
    if not tracker:
        return None
    slots = tracker.get("slots") or {}
    loop = (tracker.get("active_loop") or {}).get("name")
    try:
        registry = situations()
    except RegistryError:
        return None
    entry = next((e for e in registry.entries if loop and e.form == loop), None)
    entry = entry or registry.get(slots.get("situation"))
    if entry is None:
        return None
    answers = {slot: _bool(slots.get(slot)) for slot in entry.asks}
    typed = frozenset(
        slot for slot in ("tracking_number", "device_sn") if str(slots.get(slot) or "").strip()
    )
    return AdviceState(entry.code, answers, typed)


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def evidence_text(state: AdviceState | None, photos_total: int, texts: Mapping[str, Any]) -> str:
    """The checklist lines for the receipt ("" outside advice or for a situation without one)."""
    if state is None:
        return ""
    try:
        situation = get_knowledge_base().situations.get(state.situation)
    except KnowledgeError:
        logger.exception("knowledge base failed to load")
        return ""
    if situation is None:
        return ""
    checks = [check for check in situation.evidence_checklist if check.applies(state.answers)]
    if not checks:
        return ""
    names = texts["typed_names"]
    done = [names[check.typed] for check in checks if check.typed in state.typed]
    missing = [check for check in checks if not (check.typed and check.typed in state.typed)]
    parts = []
    if done:
        parts.append(texts["typed_done"].format(names=texts["separator"].join(done)))
    if not missing:
        parts.append(texts["all_done"])
        return "".join(parts)
    items = [
        texts["typed_hint"].format(item=check.text, name=names[check.typed])
        if check.typed
        else check.text
        for check in missing
    ]
    parts.append(
        texts["checklist"].format(count=len(missing), items=texts["separator"].join(items))
    )
    enough = photos_total >= len(missing)
    parts.append(texts["photos_enough" if enough else "photos_so_far"].format(total=photos_total))
    return "".join(parts)

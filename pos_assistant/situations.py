"""The situation registry: data/situations.yml read into typed records.

Every place that needs to know the situations (actions, knowledge loader, case categories,
digression rules, staff transcripts) asks this module, so a new situation is one entry there
(docs/adding-a-situation.md). Read on first use, never at import time, then cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pos_assistant.settings import PROJECT_ROOT

REGISTRY_FILE = PROJECT_ROOT / "data" / "situations.yml"
LABEL_KINDS = ("button", "case", "topic")


class RegistryError(ValueError):
    """data/situations.yml is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class SituationEntry:
    code: str  # also the case category and the `situation` slot value
    intent: str
    form: str
    asks: tuple[str, ...]
    knowledge_file: str
    scam: bool
    button_label: str
    case_label: str
    topic_label: str

    @property
    def advise_action(self) -> str:
        return f"action_advise_{self.code}"

    @property
    def validate_action(self) -> str:
        return f"validate_{self.form}"


@dataclass(frozen=True)
class SituationRegistry:
    entries: tuple[SituationEntry, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(entry.code for entry in self.entries)

    def get(self, code: str | None) -> SituationEntry | None:
        return next((entry for entry in self.entries if entry.code == code), None)

    def by_intent(self, intent: str | None) -> SituationEntry | None:
        return next((entry for entry in self.entries if entry.intent == intent), None)

    @property
    def scam(self) -> SituationEntry:
        """The situation scam signals lead to (its form takes over from the others)."""
        return next(entry for entry in self.entries if entry.scam)


def _entry(raw: Any, index: int) -> SituationEntry:
    where = f"{REGISTRY_FILE.name}: situations[{index}]"
    if not isinstance(raw, Mapping):
        raise RegistryError(f"{where}: expected a mapping")
    for key in ("code", "intent", "form", "knowledge"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RegistryError(f"{where}: `{key}` must be a non-empty text")
    asks = raw.get("asks")
    if not isinstance(asks, list) or not asks or not all(isinstance(s, str) for s in asks):
        raise RegistryError(f"{where}: `asks` must list the form's slots")
    labels = raw.get("labels")
    if not isinstance(labels, Mapping) or not all(
        isinstance(labels.get(kind), str) and labels[kind].strip() for kind in LABEL_KINDS
    ):
        raise RegistryError(f"{where}: `labels` needs {', '.join(LABEL_KINDS)}")
    scam = raw.get("scam", False)
    if not isinstance(scam, bool):
        raise RegistryError(f"{where}: `scam` must be true or false")
    return SituationEntry(
        code=raw["code"],
        intent=raw["intent"],
        form=raw["form"],
        asks=tuple(asks),
        knowledge_file=raw["knowledge"],
        scam=scam,
        button_label=labels["button"],
        case_label=labels["case"],
        topic_label=labels["topic"],
    )


def load_registry(path: Path = REGISTRY_FILE) -> SituationRegistry:
    """Reads and checks the registry; raises RegistryError on the first problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RegistryError(f"cannot read {path}: {error}") from error
    raw_entries = data.get("situations") if isinstance(data, Mapping) else None
    if not isinstance(raw_entries, list) or not raw_entries:
        raise RegistryError(f"{path.name}: `situations` must be a non-empty list")
    entries = tuple(_entry(raw, i) for i, raw in enumerate(raw_entries))
    for key in ("code", "intent", "form", "knowledge_file"):
        values = [getattr(entry, key) for entry in entries]
        if len(set(values)) != len(values):
            raise RegistryError(f"{path.name}: two situations share a {key}")
    if sum(entry.scam for entry in entries) != 1:
        raise RegistryError(f"{path.name}: exactly one situation must be marked `scam: true`")
    return SituationRegistry(entries=entries)


@lru_cache(maxsize=1)
def situations() -> SituationRegistry:
    """The registry, loaded on first use and cached."""
    return load_registry()

"""The knowledge content policy: which sources, laws, channels and phone numbers the knowledge
files may use. It lives in data/knowledge/content_policy.yml so a support lead can read and
change it; the loader and the text checks read it from there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pos_assistant.settings import PROJECT_ROOT

POLICY_FILE_NAME = "content_policy.yml"
DEFAULT_POLICY_FILE = PROJECT_ROOT / "data" / "knowledge" / POLICY_FILE_NAME
_LISTS = ("sources", "laws", "channels", "phone_numbers")


@dataclass(frozen=True)
class ContentPolicy:
    sources: frozenset[str]  # seed article file names and domain-facts.md
    laws: frozenset[str]
    channels: frozenset[str]
    phone_numbers: tuple[str, ...]  # in the file's order, for messages

    def numbers_text(self) -> str:
        """ "110/96110/12363/12315" for error messages."""
        return "/".join(self.phone_numbers)


def load_policy(path: Path) -> ContentPolicy:
    """Reads one policy file; ValueError names the file and the list that is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read the content policy {path}: {error}") from error
    if not isinstance(data, Mapping):
        raise ValueError(f"{path.name}: expected a mapping")
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LISTS:
        values = data.get(key)
        if not isinstance(values, list) or not values:
            raise ValueError(f"{path.name}: `{key}` must be a non-empty list")
        lists[key] = tuple(str(value).strip() for value in values)
    return ContentPolicy(
        sources=frozenset(lists["sources"]),
        laws=frozenset(lists["laws"]),
        channels=frozenset(lists["channels"]),
        phone_numbers=lists["phone_numbers"],
    )


@lru_cache(maxsize=4)
def content_policy(path: Path = DEFAULT_POLICY_FILE) -> ContentPolicy:
    """The policy file, read on first use and cached."""
    return load_policy(path)

"""Reading one knowledge file: YAML with errors that name the file and the field, and the
checks every user-facing text and source must pass (data/knowledge/content_policy.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pos_assistant.knowledge.models import Item, Source
from pos_assistant.knowledge.policy import POLICY_FILE_NAME, ContentPolicy, content_policy
from pos_assistant.knowledge.text_checks import find_unofficial_numbers, find_url


class KnowledgeError(ValueError):
    """A knowledge file is missing, malformed or breaks a content rule."""


def policy_for(directory: Path) -> ContentPolicy:
    """The content policy beside the knowledge files (a test's copy has its own)."""
    path = directory / POLICY_FILE_NAME
    try:
        return content_policy(path) if path.is_file() else content_policy()
    except ValueError as error:
        raise KnowledgeError(str(error)) from error


class KnowledgeFileReader:
    """Reads one file's YAML with error messages that name the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.policy = policy_for(path.parent)

    def fail(self, where: str, problem: str) -> KnowledgeError:
        return KnowledgeError(f"{self.path.name}: {where}: {problem}")

    def load(self) -> Mapping[str, Any]:
        if not self.path.is_file():
            raise KnowledgeError(f"missing knowledge file {self.path}")
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise KnowledgeError(f"{self.path.name}: not valid YAML: {error}") from error
        if not isinstance(data, Mapping):
            raise self.fail("top level", "expected a mapping")
        return data

    def text(self, data: Mapping[str, Any], key: str, where: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"`{key}` must be a non-empty text")
        self.check_user_text(value.strip(), f"{where}.{key}")
        return value.strip()

    def check_user_text(self, text: str, where: str) -> None:
        url = find_url(text)
        if url:
            raise self.fail(where, f"links are not allowed ({url!r})")
        numbers = find_unofficial_numbers(text, self.policy.phone_numbers)
        if numbers:
            allowed = self.policy.numbers_text()
            raise self.fail(where, f"only {allowed} may appear, found {numbers}")

    def mapping(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(where, f"`{key}` must be a mapping")
        return value

    def sequence(self, data: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, f"`{key}` must be a list")
        return value

    def source(self, data: Mapping[str, Any], where: str) -> Source:
        raw = data.get("source")
        if not isinstance(raw, str) or "#" not in raw:
            raise self.fail(where, "`source` must be '<file>#<section heading>'")
        file, _, section = raw.partition("#")
        if file.strip() not in self.policy.sources:
            raise self.fail(where, f"source file {file!r} is not a seed article or domain-facts.md")
        if not section.strip():
            raise self.fail(where, "source needs a section heading after '#'")
        return Source(file=file.strip(), section=section.strip())

    def when(self, data: Mapping[str, Any], where: str, slots: tuple[str, ...]) -> tuple:
        raw = data.get("when") or {}
        if not isinstance(raw, Mapping):
            raise self.fail(where, "`when` must map question slots to true/false")
        conditions = []
        for slot, expected in raw.items():
            if slot not in slots:
                raise self.fail(where, f"`when` names {slot!r}, not one of this file's questions")
            if not isinstance(expected, bool):
                raise self.fail(where, f"`when.{slot}` must be true or false")
            conditions.append((slot, expected))
        return tuple(conditions)

    def item(self, data: Any, where: str, slots: tuple[str, ...] = ()) -> Item:
        if not isinstance(data, Mapping):
            raise self.fail(where, "expected a mapping with text and source")
        return Item(
            text=self.text(data, "text", where),
            source=self.source(data, where),
            when=self.when(data, where, slots),
            note=str(data.get("note", "")),
        )

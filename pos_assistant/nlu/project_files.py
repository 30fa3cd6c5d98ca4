"""Reading the project's NLU data files (only at training time: the model carries what it needs)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.shared.utils.io import read_yaml_file

from pos_assistant.settings import PROJECT_ROOT


def resolve(path: str) -> Path:
    """A config path: absolute as given, relative to the project root otherwise."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def read_yaml(path: str) -> dict[str, Any]:
    resolved = resolve(path)
    if not resolved.is_file():
        raise FileNotFoundError(f"NLU data file not found: {resolved}")
    content = read_yaml_file(resolved)
    if not isinstance(content, dict):
        raise ValueError(f"{resolved} must contain a YAML mapping")
    return content


def content_fingerprint(path: str) -> str | None:
    """A hash of the file, so Rasa retrains a component when its data file changes."""
    resolved = resolve(path)
    if not resolved.is_file():
        return None
    return hashlib.sha256(resolved.read_bytes()).hexdigest()

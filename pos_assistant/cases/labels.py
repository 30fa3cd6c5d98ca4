"""Chinese labels and next steps for case codes, read from data/case_labels.yml on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pos_assistant.cases.vocabulary import CaseCategory, CaseStatus
from pos_assistant.settings import PROJECT_ROOT
from pos_assistant.situations import situations

LABELS_PATH = PROJECT_ROOT / "data" / "case_labels.yml"


@dataclass(frozen=True)
class CaseLabels:
    categories: dict[str, str]
    category_keywords: dict[str, list[str]]
    status_labels: dict[str, str]
    next_steps: dict[str, str]
    demo_cases: list[dict[str, Any]]
    extra_fields: dict[str, str]
    staff_fields: dict[str, str]
    nothing_given: str
    my_case_line: str

    def category(self, code: str | None) -> str:
        return self.categories.get(code or "", self.categories[CaseCategory.OTHER.value])

    def status(self, code: str) -> str:
        return self.status_labels.get(code, code)

    def next_step(self, code: str) -> str:
        return self.next_steps.get(code, "")

    def status_code(self, label_or_code: str) -> str | None:
        """Accepts 处理中 as well as in_progress."""
        wanted = label_or_code.strip()
        if wanted in self.status_labels:
            return wanted
        for code, label in self.status_labels.items():
            if label == wanted:
                return code
        return None

    def category_from_text(self, text: str) -> str | None:
        """The category a free-text or quick-reply answer names, or None."""
        cleaned = text.strip()
        if cleaned in self.categories:
            return cleaned
        for code, label in self.categories.items():
            if cleaned == label:
                return code
        for code, keywords in self.category_keywords.items():
            if any(keyword in cleaned for keyword in keywords):
                return code
        return None


@lru_cache(maxsize=4)
def load_case_labels(path: Path = LABELS_PATH) -> CaseLabels:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    # The situations' labels live in data/situations.yml; the file adds `other`.
    categories = {entry.code: entry.case_label for entry in situations().entries}
    categories |= {str(k): str(v) for k, v in raw["categories"].items()}
    statuses = raw["statuses"]
    missing = {c.value for c in CaseCategory} - categories.keys()
    missing |= {s.value for s in CaseStatus} - statuses.keys()
    if missing:
        raise ValueError(f"{path} lacks labels for: {sorted(missing)}")
    return CaseLabels(
        categories=categories,
        category_keywords={
            str(k): [str(word) for word in v] for k, v in raw.get("category_keywords", {}).items()
        },
        status_labels={code: str(entry["label"]) for code, entry in statuses.items()},
        next_steps={code: str(entry["next_step"]) for code, entry in statuses.items()},
        demo_cases=list(raw.get("demo_cases", [])),
        extra_fields={str(k): str(v) for k, v in raw["extra_fields"].items()},
        staff_fields={str(k): str(v) for k, v in raw["staff_fields"].items()},
        nothing_given=str(raw["nothing_given"]),
        my_case_line=str(raw["my_case_line"]),
    )

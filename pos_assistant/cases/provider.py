"""The process-wide CaseStore, built from settings on first call (no I/O until it is used)."""

from __future__ import annotations

from functools import lru_cache

from pos_assistant.cases.store import CaseStore
from pos_assistant.settings import get_settings


@lru_cache(maxsize=1)
def get_case_store() -> CaseStore:
    return CaseStore(get_settings().database_url)

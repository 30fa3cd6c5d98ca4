"""The process-wide CaseStore, built from settings on first call (no I/O until it is used)."""

from __future__ import annotations

from functools import lru_cache

from pos_assistant.cases.store import CaseStore
from pos_assistant.rate_limits import AbuseLimits
from pos_assistant.settings import Settings, get_settings


def abuse_limits(settings: Settings) -> AbuseLimits:
    return AbuseLimits(
        verification_minutes=settings.case_verification_minutes,
        lookup_failures_per_conversation=settings.lookup_failures_per_conversation,
        lookup_failures_per_address=settings.lookup_failures_per_address,
        lookup_identity_window_minutes=settings.lookup_identity_window_minutes,
        cases_per_conversation=settings.cases_per_conversation,
        cases_per_address=settings.cases_per_address,
        handoffs_per_conversation=settings.handoffs_per_conversation,
        handoffs_per_address=settings.handoffs_per_address,
        window_minutes=settings.rate_limit_window_minutes,
    )


@lru_cache(maxsize=1)
def get_case_store() -> CaseStore:
    settings = get_settings()
    return CaseStore(
        settings.database_url,
        max_failed_attempts=settings.lookup_failures_per_case,
        lock_minutes=settings.lookup_lock_minutes,
        limits=abuse_limits(settings),
    )

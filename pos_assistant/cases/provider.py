"""The process-wide CaseStore, built from settings on first call (no I/O until it is used)."""

from __future__ import annotations

from functools import lru_cache
from typing import cast

from pos_assistant.cases.deadline import DeadlineStore, StoreDeadline
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
    """The store; each of its calls (and its handoff queue's) waits at most
    CASE_STORE_TIMEOUT_SECONDS, then raises StoreUnavailable (pos_assistant/cases/deadline.py)."""
    settings = get_settings()
    store = CaseStore(
        settings.database_url,
        max_failed_attempts=settings.lookup_failures_per_case,
        lock_minutes=settings.lookup_lock_minutes,
        limits=abuse_limits(settings),
        timeout_seconds=settings.case_store_timeout_seconds,
        pool_size=settings.case_store_pool_size,
    )
    deadline = StoreDeadline(
        settings.case_store_timeout_seconds,
        settings.case_store_pool_size,
        ready=store.database.is_ready,
    )
    return cast(CaseStore, DeadlineStore(store, deadline))

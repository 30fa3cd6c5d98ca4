"""Typed errors of the case store, so callers can answer each one precisely."""

from __future__ import annotations

from datetime import datetime


class CaseStoreError(Exception):
    """Base class of every error the case store raises on purpose."""


class StoreUnavailable(CaseStoreError):
    """The database cannot be reached or answered with an operational error."""


class CaseNotFound(CaseStoreError):
    def __init__(self, case_number: str) -> None:
        super().__init__(f"case {case_number} not found")
        self.case_number = case_number


class InvalidCaseData(CaseStoreError):
    """A value the store refuses to write (bad phone, unknown category, empty description…)."""


class InvalidStatusTransition(CaseStoreError):
    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(f"status change {from_status} -> {to_status} is not allowed")
        self.from_status = from_status
        self.to_status = to_status


class CaseNotOpen(CaseStoreError):
    """Users may only add information to a case that is still open."""


class LookupLocked(CaseStoreError):
    """Too many wrong verification answers for this case number; retry after `locked_until`."""

    def __init__(self, case_number: str, locked_until: datetime) -> None:
        super().__init__(f"lookups of {case_number} are locked until {locked_until.isoformat()}")
        self.case_number = case_number
        self.locked_until = locked_until


class VerificationFailed(CaseStoreError):
    """Wrong last four digits, or no such case: deliberately the same error for both."""

    def __init__(self, remaining_attempts: int) -> None:
        super().__init__(f"verification failed, {remaining_attempts} attempts left")
        self.remaining_attempts = remaining_attempts


class HandoffNotFound(CaseStoreError):
    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"no open handoff request for conversation {conversation_id}")
        self.conversation_id = conversation_id


class HandoffTakenByOther(CaseStoreError):
    """Another agent owns this conversation: one owner at a time (a lead may reassign)."""

    def __init__(self, conversation_id: str, owner: str) -> None:
        super().__init__(f"conversation {conversation_id} is taken by {owner}")
        self.conversation_id = conversation_id
        self.owner = owner


class RateLimited(CaseStoreError):
    """This identity opened too many cases or asked for a human too often; retry after
    `retry_at`."""

    def __init__(self, what: str, retry_at: datetime) -> None:
        super().__init__(f"{what} rate limit reached until {retry_at.isoformat()}")
        self.what = what
        self.retry_at = retry_at


class AccessDenied(CaseStoreError):
    """This conversation is not verified for the case (or the case does not exist: the same
    error, so nobody learns which numbers exist)."""

"""The audit log: every view of a case or transcript and every change, with who and when.

Leads read it in the console (GET /api/audit). Entries are never updated or deleted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from pos_assistant.cases.store import CaseStore
from pos_assistant.console.models import AuditEntry
from pos_assistant.db import as_utc

MAX_DETAIL_CHARS = 500


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    action: str
    target: str
    detail: str
    created_at: datetime

    def as_json(self) -> dict[str, str]:
        return {
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
            "at": self.created_at.isoformat(),
        }


class AuditLog:
    def __init__(self, store: CaseStore) -> None:
        self._store = store

    def record(self, actor: str, action: str, target: str, detail: str = "") -> None:
        with self._store.database.transaction() as session:
            session.add(
                AuditEntry(
                    actor=actor[:64],
                    action=action[:32],
                    target=target[:160],
                    detail=detail[:MAX_DETAIL_CHARS],
                    created_at=self._store.database.now(),
                )
            )

    def entries(
        self, *, limit: int = 200, actor: str | None = None, target: str | None = None
    ) -> list[AuditRecord]:
        """Newest first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if target:
            query = query.where(AuditEntry.target == target)
        with self._store.database.transaction() as session:
            return [
                AuditRecord(row.actor, row.action, row.target, row.detail, as_utc(row.created_at))
                for row in session.execute(query).scalars()
            ]

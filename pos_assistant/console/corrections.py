"""Agents' corrections of messages the assistant misread, and their export as training data.

An agent marks a customer message and picks the right intent; a lead accepts or rejects it; the
accepted ones are exported as a Rasa NLU file (data/nlu format) for the next training. Nothing is
added to the training data automatically: the lead reviews the file and commits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import select

from pos_assistant.cases.errors import CaseStoreError
from pos_assistant.cases.store import CaseStore
from pos_assistant.console.models import Correction
from pos_assistant.db import as_utc
from pos_assistant.privacy import mask_text
from pos_assistant.settings import PROJECT_ROOT

STATUSES = ("pending", "accepted", "rejected")
# Messages the assistant never learns from: buttons, and the widget's own session start.
_NOT_TRAINABLE_PREFIX = "/"


class CorrectionRefused(CaseStoreError):
    """No such customer message, an unknown intent, or nothing to correct."""


@lru_cache(maxsize=1)
def domain_intents() -> tuple[str, ...]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return tuple(str(intent) for intent in domain.get("intents") or [])


@dataclass(frozen=True)
class CorrectionRecord:
    id: int
    conversation_id: str
    text: str
    predicted_intent: str
    correct_intent: str
    agent: str
    status: str
    reviewed_by: str | None
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "text": self.text,
            "predicted_intent": self.predicted_intent,
            "correct_intent": self.correct_intent,
            "agent": self.agent,
            "status": self.status,
            "reviewed_by": self.reviewed_by,
            "created_at": self.created_at.isoformat(),
        }


def _record(row: Correction) -> CorrectionRecord:
    return CorrectionRecord(
        row.id,
        row.conversation_id,
        row.text,
        row.predicted_intent,
        row.correct_intent,
        row.agent,
        row.status,
        row.reviewed_by,
        as_utc(row.created_at),
    )


class Corrections:
    def __init__(self, store: CaseStore) -> None:
        self._store = store

    def add(
        self,
        conversation_id: str,
        events: list[dict[str, Any]],
        message_timestamp: float,
        intent: str,
        agent: str,
    ) -> CorrectionRecord:
        if intent not in domain_intents():
            raise CorrectionRefused(f"unknown intent {intent!r}")
        message = next(
            (
                event
                for event in events
                if event.get("event") == "user"
                and abs(float(event.get("timestamp") or 0) - message_timestamp) < 1e-6
            ),
            None,
        )
        if message is None:
            raise CorrectionRefused("no such customer message in this conversation")
        text = mask_text(str(message.get("text") or "")).strip()
        if not text or text.startswith(_NOT_TRAINABLE_PREFIX):
            raise CorrectionRefused("this message cannot be learnt from")
        predicted = str(((message.get("parse_data") or {}).get("intent") or {}).get("name") or "")
        if predicted == intent:
            raise CorrectionRefused("the assistant already read it this way")
        with self._store.database.transaction() as session:
            row = Correction(
                conversation_id=conversation_id[:128],
                message_timestamp=float(message["timestamp"]),
                text=text[:1000],
                predicted_intent=predicted[:64],
                correct_intent=intent,
                agent=agent[:64],
                status="pending",
                created_at=self._store.database.now(),
            )
            session.add(row)
            session.flush()
            return _record(row)

    def list(self, status: str | None = None, limit: int = 500) -> list[CorrectionRecord]:
        query = select(Correction).order_by(Correction.id.desc()).limit(limit)
        if status:
            query = query.where(Correction.status == status)
        with self._store.database.transaction() as session:
            return [_record(row) for row in session.execute(query).scalars()]

    def review(self, correction_id: int, accept: bool, lead: str) -> CorrectionRecord:
        with self._store.database.transaction() as session:
            row = session.get(Correction, correction_id, with_for_update=True)
            if row is None:
                raise CorrectionRefused(f"no correction {correction_id}")
            row.status = "accepted" if accept else "rejected"
            row.reviewed_by = lead[:64]
            row.reviewed_at = self._store.database.now()
            return _record(row)

    def export(self) -> str:
        """The accepted corrections as a Rasa NLU training file (data/nlu format)."""
        by_intent: dict[str, list[str]] = {}
        for record in reversed(self.list("accepted", limit=100_000)):
            examples = by_intent.setdefault(record.correct_intent, [])
            line = " ".join(record.text.split())
            if line not in examples:
                examples.append(line)
        lines = ['version: "3.1"', "", "nlu:"]
        for intent in sorted(by_intent):
            lines += [f"- intent: {intent}", "  examples: |"]
            lines += [f"    - {example}" for example in by_intent[intent]]
        return "\n".join(lines) + "\n"

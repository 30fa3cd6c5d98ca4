"""A plain, immutable view of a handoff request (no session attached)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pos_assistant.db import as_utc
from pos_assistant.handoff.models import HandoffRequestRecord


@dataclass(frozen=True)
class HandoffRequest:
    conversation_id: str
    channel: str
    category: str | None
    summary: str
    case_number: str | None
    status: str
    taken_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: HandoffRequestRecord) -> HandoffRequest:
        return cls(
            conversation_id=record.conversation_id,
            channel=record.channel,
            category=record.category,
            summary=record.summary,
            case_number=record.case_number,
            status=record.status,
            taken_by=record.taken_by,
            created_at=as_utc(record.created_at),
            updated_at=as_utc(record.updated_at),
        )

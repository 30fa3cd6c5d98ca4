"""Plain, immutable views of stored cases that the store hands out (no session attached)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pos_assistant.cases.identifiers import mask_phone
from pos_assistant.cases.models import CaseEventRecord, CaseRecord
from pos_assistant.db import as_utc


@dataclass(frozen=True)
class NewCase:
    """What a user submits when opening a case."""

    category: str
    contact_phone: str
    description: str
    channel: str
    channel_user_id: str
    idempotency_key: str
    brand: str | None = None
    device_serial: str | None = None
    tracking_number: str | None = None
    amount: str | None = None


@dataclass(frozen=True)
class CaseEvent:
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    is_public: bool
    author: str
    created_at: datetime

    @classmethod
    def from_record(cls, record: CaseEventRecord) -> CaseEvent:
        return cls(
            kind=record.kind,
            from_status=record.from_status,
            to_status=record.to_status,
            note=record.note,
            is_public=bool(record.is_public),
            author=record.author,
            created_at=as_utc(record.created_at),
        )


@dataclass(frozen=True)
class Case:
    case_number: str
    category: str
    status: str
    contact_phone: str
    description: str
    channel: str
    channel_user_id: str
    created_at: datetime
    updated_at: datetime
    brand: str | None = None
    device_serial: str | None = None
    tracking_number: str | None = None
    amount: str | None = None
    events: tuple[CaseEvent, ...] = field(default_factory=tuple)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.contact_phone)

    @property
    def latest_public_note(self) -> str | None:
        for event in reversed(self.events):
            if event.is_public and event.note:
                return event.note
        return None

    def __repr__(self) -> str:  # never print the full phone into logs
        return f"Case({self.case_number}, {self.category}, {self.status}, {self.masked_phone})"

    @classmethod
    def from_record(cls, record: CaseRecord) -> Case:
        return cls(
            case_number=record.case_number,
            category=record.category,
            status=record.status,
            contact_phone=record.contact_phone,
            description=record.description,
            channel=record.channel,
            channel_user_id=record.channel_user_id,
            created_at=as_utc(record.created_at),
            updated_at=as_utc(record.updated_at),
            brand=record.brand,
            device_serial=record.device_serial,
            tracking_number=record.tracking_number,
            amount=record.amount,
            events=tuple(CaseEvent.from_record(event) for event in record.events),
        )

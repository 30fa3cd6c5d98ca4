"""Receives a user's photos: checks, re-encodes, stores and attaches them to the user's case.

A message's photos are all checked before any is stored: one bad file refuses the message and
nothing of it is kept. Accepted photos go to the conversation's open case (the newest case it
opened that is not resolved or closed) or are held with the conversation, and `attach_held`
moves them onto the case once the conversation opens one. Photos are reachable only through
their random public id, by the conversation that sent them or by staff.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pos_assistant.attachments.images import ImageRejected, ProcessedImage, process_image
from pos_assistant.attachments.models import AttachmentRecord
from pos_assistant.attachments.quota import UploadQuota
from pos_assistant.attachments.storage import AttachmentStorage, storage_from_setting
from pos_assistant.cases.store import CaseStore
from pos_assistant.cases.vocabulary import OPEN_STATUSES
from pos_assistant.db import as_utc, naive_utc
from pos_assistant.settings import Settings


def database_transaction(store: CaseStore) -> AbstractContextManager[Session]:
    """A transaction on the case store's database (photos live in the same database)."""
    return store._database.transaction()


class PhotosRefused(ValueError):
    """The message's photos were not stored; `reason` names the user-facing text."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position  # 1-based number of the offending photo, when one is


@dataclass(frozen=True)
class Receipt:
    count: int
    case_number: str | None  # None: held with the conversation until it opens a case
    conversation_total: int = 0  # photos the conversation has sent, these included


@dataclass(frozen=True)
class StoredPhoto:
    public_id: str
    conversation_id: str
    case_number: str | None
    source: str
    byte_size: int
    width: int
    height: int
    created_at: datetime
    storage_key: str
    thumbnail_key: str

    @classmethod
    def from_record(cls, row: AttachmentRecord) -> StoredPhoto:
        return cls(
            public_id=row.public_id,
            conversation_id=row.conversation_id,
            case_number=row.case_number,
            source=row.source,
            byte_size=row.byte_size,
            width=row.width,
            height=row.height,
            created_at=as_utc(row.created_at),
            storage_key=row.storage_key,
            thumbnail_key=row.thumbnail_key,
        )


DEFAULT_QUOTA = UploadQuota()


class PhotoInbox:
    def __init__(
        self,
        store: CaseStore,
        storage: AttachmentStorage,
        *,
        max_bytes: int,
        per_message: int,
        quota: UploadQuota = DEFAULT_QUOTA,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.store = store
        self.storage = storage
        self.max_bytes = max_bytes
        self.per_message = per_message
        self.quota = quota
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, store: CaseStore) -> PhotoInbox:
        return cls(
            store,
            storage_from_setting(settings.attachment_storage, Path(settings.attachments_dir)),
            max_bytes=settings.photo_max_bytes,
            per_message=settings.photos_per_message,
            quota=UploadQuota(settings.photo_uploads_per_minute, settings.photo_uploads_per_day),
        )

    def receive(
        self,
        conversation_id: str,
        source: str,
        files: Sequence[bytes],
        client_address: str | None = None,
    ) -> Receipt:
        """Stores all of `files` or none of them (PhotosRefused)."""
        if not files:
            raise PhotosRefused("no_photo")
        if len(files) > self.per_message:
            raise PhotosRefused("too_many_photos")
        self._count_against_quota(conversation_id, client_address, len(files))
        processed: list[ProcessedImage] = []
        for position, data in enumerate(files, start=1):
            try:
                processed.append(process_image(data, self.max_bytes))
            except ImageRejected as rejected:
                raise PhotosRefused(rejected.reason, position) from None
        case_number = self.open_case_of(conversation_id)
        now = naive_utc(self.clock())
        rows = [self._put(image, conversation_id, source, case_number, now) for image in processed]
        with database_transaction(self.store) as session:
            session.add_all(rows)
            session.flush()
            total = session.execute(
                select(func.count())
                .select_from(AttachmentRecord)
                .where(AttachmentRecord.conversation_id == conversation_id[:128])
            ).scalar_one()
        return Receipt(len(rows), case_number, int(total))

    def _count_against_quota(
        self, conversation_id: str, client_address: str | None, count: int
    ) -> None:
        """Refused photos count too (a decompression bomb is work); a refusal counts nothing."""
        with database_transaction(self.store) as session:
            refused = self.quota.take(
                session, naive_utc(self.clock()), conversation_id, client_address, count
            )
            if refused is not None:
                raise PhotosRefused(refused)  # rolls the transaction back

    def _put(
        self,
        image: ProcessedImage,
        conversation_id: str,
        source: str,
        case_number: str | None,
        now: datetime,
    ) -> AttachmentRecord:
        key = secrets.token_hex(16)
        self.storage.put(f"{key}.jpg", image.jpeg)
        self.storage.put(f"{key}.thumb.jpg", image.thumbnail)
        return AttachmentRecord(
            public_id=secrets.token_hex(16),
            conversation_id=conversation_id[:128],
            case_number=case_number,
            source=source,
            storage_key=f"{key}.jpg",
            thumbnail_key=f"{key}.thumb.jpg",
            byte_size=len(image.jpeg),
            width=image.width,
            height=image.height,
            sha256=hashlib.sha256(image.jpeg).hexdigest(),
            created_at=now,
        )

    def open_case_of(self, conversation_id: str) -> str | None:
        for case in self.store.cases_opened_by(conversation_id):  # newest first
            if case.status in OPEN_STATUSES:
                return case.case_number
        return None

    def attach_held(self, conversation_id: str, case_number: str) -> int:
        """Attaches the photos held with the conversation to its new case; how many."""
        with database_transaction(self.store) as session:
            result = session.execute(
                update(AttachmentRecord)
                .where(AttachmentRecord.conversation_id == conversation_id[:128])
                .where(AttachmentRecord.case_number.is_(None))
                .values(case_number=case_number)
            )
            return int(result.rowcount or 0)

    def photos_of_case(self, case_number: str) -> list[StoredPhoto]:
        return self._select(AttachmentRecord.case_number == case_number)

    def photos_of_conversation(self, conversation_id: str) -> list[StoredPhoto]:
        return self._select(AttachmentRecord.conversation_id == conversation_id[:128])

    def _select(self, condition) -> list[StoredPhoto]:  # type: ignore[no-untyped-def]
        query = select(AttachmentRecord).where(condition).order_by(AttachmentRecord.id)
        with database_transaction(self.store) as session:
            return [StoredPhoto.from_record(row) for row in session.execute(query).scalars()]

    def photo_for(
        self, public_id: str, conversation_id: str | None, *, staff: bool = False
    ) -> StoredPhoto | None:
        """The photo, when `conversation_id` sent it or staff ask; None otherwise (also for
        ids that do not exist: a stranger cannot tell the two apart)."""
        query = select(AttachmentRecord).where(AttachmentRecord.public_id == public_id)
        with database_transaction(self.store) as session:
            row = session.execute(query).scalar_one_or_none()
            photo = StoredPhoto.from_record(row) if row is not None else None
        if photo is None:
            return None
        owner = bool(conversation_id) and secrets.compare_digest(
            photo.conversation_id.encode(), str(conversation_id).encode()
        )
        return photo if staff or owner else None

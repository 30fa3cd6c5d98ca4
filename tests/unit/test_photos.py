"""Evidence photos: content checks, re-encoding without EXIF, storage, attaching to cases."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from pos_assistant.attachments.images import process_image
from pos_assistant.attachments.inbox import (
    PhotoInbox,
    PhotosRefused,
    database_transaction,
)
from pos_assistant.attachments.models import AttachmentRecord
from pos_assistant.attachments.quota import UploadQuota
from pos_assistant.attachments.storage import LocalFileStorage
from pos_assistant.attachments.texts import receipt_text, refusal_text
from pos_assistant.cases.records import NewCase
from pos_assistant.cases.store import CaseStore
from pos_assistant.settings import get_settings
from pos_assistant.staff.cli import main as staff_main
from tests.pg import new_database, postgres_server_url  # noqa: F401  (fixture)

MAX_BYTES = 10 * 1024 * 1024
CONVERSATION = "web:0123456789abcdef0123456789abcdef"
GPS_LATITUDE = (31.0, 14.0, 2.0)


def photo_bytes(size: tuple[int, int] = (640, 480), fmt: str = "JPEG", gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 7):  # some detail, so the file is not trivially small
        image.putpixel((x, x % size[1]), (0, 0, 0))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[ExifTags.Base.Model] = "TestPhone 12"
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(
            {
                ExifTags.GPS.GPSLatitudeRef: "N",
                ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
                ExifTags.GPS.GPSLongitudeRef: "E",
                ExifTags.GPS.GPSLongitude: (121.0, 28.0, 5.0),
            }
        )
        image.save(out, format=fmt, exif=exif.tobytes())
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def gps_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    case_store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    yield case_store
    case_store.dispose()


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


@pytest.fixture
def inbox(store: CaseStore, files_dir: Path) -> PhotoInbox:
    return PhotoInbox(
        store,
        LocalFileStorage(files_dir),
        max_bytes=MAX_BYTES,
        per_message=5,
    )


def stored_files(files_dir: Path) -> list[Path]:
    return sorted(path for path in files_dir.rglob("*") if path.is_file())


def row_count(store: CaseStore) -> int:
    with database_transaction(store) as session:
        return session.execute(select(func.count()).select_from(AttachmentRecord)).scalar_one()


def open_case(store: CaseStore, conversation: str = CONVERSATION) -> str:
    return store.create_case(
        NewCase(
            category="unordered_device",
            contact_phone="13812345678",
            description="没买却收到POS机",
            channel="socketio",
            channel_user_id=conversation,
            idempotency_key=f"{conversation}:1",
        )
    ).case_number


def test_gps_exif_is_gone_from_the_stored_file(
    inbox: PhotoInbox, store: CaseStore, files_dir: Path
) -> None:
    original = photo_bytes(gps=True)
    assert gps_of(original)[ExifTags.GPS.GPSLatitude] == GPS_LATITUDE  # the input has it
    case_number = open_case(store)
    receipt = inbox.receive(CONVERSATION, "widget", [original])
    assert receipt.count == 1 and receipt.case_number == case_number
    [photo] = inbox.photos_of_case(case_number)
    stored = (files_dir / photo.storage_key[:2] / photo.storage_key).read_bytes()
    assert stored == inbox.storage.get(photo.storage_key)
    assert gps_of(stored) == {}
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and dict(image.getexif()) == {}
        assert image.size == (640, 480)
    assert b"Exif" not in stored and b"TestPhone" not in stored
    with Image.open(io.BytesIO(inbox.storage.get(photo.thumbnail_key))) as thumbnail:
        assert max(thumbnail.size) == 320


def test_an_iphone_heic_photo_is_taken_and_stored_as_jpeg_without_gps(
    inbox: PhotoInbox, files_dir: Path
) -> None:
    original = photo_bytes(fmt="HEIF", gps=True)
    assert original[4:12] == b"ftypheic" and gps_of(original)[ExifTags.GPS.GPSLatitude]
    assert inbox.receive(CONVERSATION, "widget", [original]).count == 1
    [photo] = inbox.photos_of_conversation(CONVERSATION)
    stored = inbox.storage.get(photo.storage_key)
    assert stored[:3] == b"\xff\xd8\xff" and gps_of(stored) == {}


def test_photos_are_held_until_the_conversation_opens_a_case(
    inbox: PhotoInbox, store: CaseStore
) -> None:
    receipt = inbox.receive(CONVERSATION, "widget", [photo_bytes(), photo_bytes(fmt="PNG")])
    assert receipt.count == 2 and receipt.case_number is None
    assert "已收到2张照片" in receipt_text(receipt)
    case_number = open_case(store)
    assert inbox.attach_held(CONVERSATION, case_number) == 2
    assert [photo.case_number for photo in inbox.photos_of_case(case_number)] == [case_number] * 2
    later = inbox.receive(CONVERSATION, "widget", [photo_bytes()])
    assert later.case_number == case_number
    assert receipt_text(later).startswith(f"已收到1张照片，已附到工单{case_number}")


def test_only_the_sender_or_staff_can_read_a_photo(inbox: PhotoInbox) -> None:
    inbox.receive(CONVERSATION, "widget", [photo_bytes()])
    [photo] = inbox.photos_of_conversation(CONVERSATION)
    assert len(photo.public_id) == 32  # 128 random bits, not the row number
    assert inbox.photo_for(photo.public_id, CONVERSATION) == photo
    assert inbox.photo_for(photo.public_id, None, staff=True) == photo
    assert inbox.photo_for(photo.public_id, "web:ffffffffffffffffffffffffffffffff") is None
    assert inbox.photo_for(photo.public_id, None) is None


def truncated_jpeg() -> bytes:
    data = photo_bytes((1200, 900))
    return data[: len(data) // 2]


def decompression_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")  # 81 megapixels in a few KB
    assert len(out.getvalue()) < 100_000
    return out.getvalue()


@pytest.mark.parametrize(
    ("make_file", "reason"),
    [
        (lambda: "这不是照片".encode() * 100, "not_image"),
        (lambda: b"%PDF-1.4\n" + b"0" * 1000, "not_image"),
        (truncated_jpeg, "damaged"),
        (decompression_bomb, "too_many_pixels"),
        (lambda: photo_bytes((1200, 900), fmt="HEIF")[:2000], "damaged"),
        (lambda: photo_bytes() + b"\x00" * MAX_BYTES, "too_large"),
    ],
    ids=["text", "pdf", "truncated", "bomb", "truncated-heic", "oversized"],
)
def test_a_bad_file_refuses_the_whole_message_and_nothing_is_stored(
    inbox: PhotoInbox, store: CaseStore, files_dir: Path, make_file, reason: str
) -> None:
    with pytest.raises(PhotosRefused) as refused:
        inbox.receive(CONVERSATION, "widget", [photo_bytes(), make_file()])
    assert refused.value.reason == reason and refused.value.position == 2
    assert stored_files(files_dir) == [] and row_count(store) == 0
    text = refusal_text(refused.value, max_bytes=MAX_BYTES, max_count=5)
    assert text.startswith("第2") and "没有保存" in text
    # The conversation goes on: the next good photo is taken.
    assert inbox.receive(CONVERSATION, "widget", [photo_bytes()]).count == 1


def test_fifty_uploads_in_a_minute_are_refused_past_the_limit(
    inbox: PhotoInbox, store: CaseStore, files_dir: Path
) -> None:
    outcomes = []
    for _ in range(50):
        try:
            inbox.receive(CONVERSATION, "widget", [photo_bytes((64, 48))], "203.0.113.9")
            outcomes.append("stored")
        except PhotosRefused as refused:
            outcomes.append(refused.reason)
    assert outcomes == ["stored"] * 20 + ["too_fast"] * 30
    assert row_count(store) == 20 and len(stored_files(files_dir)) == 40  # photo + thumbnail
    # Another conversation from the same address is limited too (a new session is free).
    with pytest.raises(PhotosRefused, match="too_fast"):
        inbox.receive("web:" + "e" * 32, "widget", [photo_bytes()], "203.0.113.9")


def test_a_day_of_photos_is_bounded_too(store: CaseStore, files_dir: Path) -> None:
    inbox = PhotoInbox(
        store,
        LocalFileStorage(files_dir),
        max_bytes=MAX_BYTES,
        per_message=5,
        quota=UploadQuota(per_minute=20, per_day=3),
    )
    assert inbox.receive(CONVERSATION, "widget", [photo_bytes((64, 48))] * 3).count == 3
    with pytest.raises(PhotosRefused, match="too_many_today") as refused:
        inbox.receive(CONVERSATION, "widget", [photo_bytes((64, 48))])
    assert "明天再发" in refusal_text(refused.value, max_bytes=MAX_BYTES, max_count=5)
    assert row_count(store) == 3


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 8, 0, 30, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_the_minute_cap_opens_again_a_minute_later(store: CaseStore, files_dir: Path) -> None:
    clock = Clock()
    inbox = PhotoInbox(
        store,
        LocalFileStorage(files_dir),
        max_bytes=MAX_BYTES,
        per_message=5,
        quota=UploadQuota(per_minute=3, per_day=100),
        clock=clock,
    )
    assert inbox.receive(CONVERSATION, "widget", [photo_bytes((64, 48))] * 3).count == 3
    clock.now += timedelta(seconds=59)
    with pytest.raises(PhotosRefused, match="too_fast"):
        inbox.receive(CONVERSATION, "widget", [photo_bytes((64, 48))])
    clock.now += timedelta(seconds=2)
    assert inbox.receive(CONVERSATION, "widget", [photo_bytes((64, 48))]).count == 1


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return new_database(request.getfixturevalue("postgres_server_url"))


def test_two_processes_on_one_database_share_the_caps(
    shared_database_url: str, files_dir: Path
) -> None:
    """Two stores on one database stand for two Rasa servers or relays: the 20-a-minute cap
    (per conversation and per address) is one cap for both, not 20 each."""
    url = shared_database_url
    stores = [CaseStore(url), CaseStore(url)]
    try:
        first, second = (
            PhotoInbox(
                store,
                LocalFileStorage(files_dir),
                max_bytes=MAX_BYTES,
                per_message=5,
                quota=UploadQuota(per_minute=20, per_day=200),
            )
            for store in stores
        )
        outcomes = []
        for turn in range(30):
            inbox = first if turn % 2 == 0 else second
            try:
                inbox.receive(CONVERSATION, "widget", [photo_bytes((64, 48))], "203.0.113.9")
                outcomes.append("stored")
            except PhotosRefused as refused:
                outcomes.append(refused.reason)
        assert outcomes == ["stored"] * 20 + ["too_fast"] * 10
        # The address's cap is shared too: a new conversation from it gets nothing more.
        with pytest.raises(PhotosRefused, match="too_fast"):
            second.receive("web:" + "d" * 32, "widget", [photo_bytes()], "203.0.113.9")
        assert row_count(stores[0]) == 20
    finally:
        for store in stores:
            store.dispose()


def test_photos_sent_at_once_from_two_processes_never_pass_the_cap(
    shared_database_url: str, files_dir: Path
) -> None:
    url = shared_database_url
    stores = [CaseStore(url) for _ in range(4)]
    inboxes = [
        PhotoInbox(
            store,
            LocalFileStorage(files_dir),
            max_bytes=MAX_BYTES,
            per_message=5,
            quota=UploadQuota(per_minute=10, per_day=200),
        )
        for store in stores
    ]
    photo = photo_bytes((64, 48))

    def send(number: int) -> str:
        try:
            inboxes[number % 4].receive(CONVERSATION, "widget", [photo, photo])
            return "stored"
        except PhotosRefused as refused:
            return refused.reason

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(send, range(16)))
        assert outcomes.count("stored") == 5 and outcomes.count("too_fast") == 11
        assert row_count(stores[0]) == 10
    finally:
        for store in stores:
            store.dispose()


def test_more_than_five_photos_in_one_message_are_refused(
    inbox: PhotoInbox, store: CaseStore
) -> None:
    with pytest.raises(PhotosRefused, match="too_many_photos"):
        inbox.receive(CONVERSATION, "widget", [photo_bytes()] * 6)
    assert row_count(store) == 0


def test_a_phone_photo_is_turned_upright() -> None:
    image = Image.new("RGB", (40, 20), (10, 10, 10))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to view"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    processed = process_image(out.getvalue(), MAX_BYTES)
    assert (processed.width, processed.height) == (20, 40)


def test_the_staff_tool_lists_and_exports_a_cases_photos(
    inbox: PhotoInbox, store: CaseStore, files_dir: Path, tmp_path: Path
) -> None:
    case_number = open_case(store)
    inbox.receive(CONVERSATION, "widget", [photo_bytes(gps=True), photo_bytes((320, 200))])
    settings = dataclasses.replace(get_settings(), attachments_dir=str(files_dir))

    def staff(*argv: str) -> str:
        out = io.StringIO()
        assert staff_main(list(argv), store=store, settings=settings, out=out) == 0
        return out.getvalue()

    listing = staff("photos", "list", case_number).splitlines()
    assert len(listing) == 2 and "640x480" in listing[0] and "320x200" in listing[1]
    exported = staff("photos", "export", case_number, "--to", str(tmp_path / "out"))
    assert exported.splitlines()[-1] == "2 photo(s) exported"
    first = tmp_path / "out" / f"{case_number}-1.jpg"
    assert gps_of(first.read_bytes()) == {}
    assert staff("photos", "list", open_case(store, "wx:someone-else")) == "(no photos)\n"

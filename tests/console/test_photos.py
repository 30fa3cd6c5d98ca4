"""Evidence photos in the console: the conversation's thumbnails, the full image and its download
for a signed-in agent; nothing for a signed-out, forged, ended or disabled session, a widget
session or the Rasa API token, and 404 for an id that is not a photo's."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import ExifTags, Image

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.attachments.storage import LocalFileStorage
from pos_assistant.console.auth import COOKIE_NAME
from tests.console.server import RunningConsole

CONVERSATION = "web:0123456789abcdef0123456789abcdef"
OTHER_CONVERSATION = "web:fedcba9876543210fedcba9876543210"


def photo_with_gps(size: tuple[int, int] = (1200, 900)) -> bytes:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 14.0, 2.0)}
    )
    out = io.BytesIO()
    Image.new("RGB", size, (120, 80, 40)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def inbox(console: RunningConsole, tmp_path: Path) -> PhotoInbox:
    # The console's own settings keep photos in tmp_path/attachments (tests/console/conftest.py).
    storage = LocalFileStorage(tmp_path / "attachments")
    return PhotoInbox(console.store, storage, max_bytes=10_000_000, per_message=5)


def size_of(answer: httpx.Response) -> tuple[int, int]:
    with Image.open(io.BytesIO(answer.content)) as image:
        return image.size


def test_an_agent_sees_the_conversations_photos_opens_and_downloads_them(
    console: RunningConsole, inbox: PhotoInbox
) -> None:
    inbox.receive(CONVERSATION, "widget", [photo_with_gps(), photo_with_gps((800, 600))])
    inbox.receive(OTHER_CONVERSATION, "widget", [photo_with_gps()])  # not this customer's
    console.store.handoffs.enqueue(CONVERSATION, channel="socketio", summary="x")
    agent = console.login("agent1")
    path = f"/api/conversations/{CONVERSATION}"
    photos = agent.get(path).json()["photos"]
    assert [(p["width"], p["height"], p["case_number"]) for p in photos] == [
        (1200, 900, None),
        (800, 600, None),
    ]
    first = photos[0]
    thumbnail = agent.get(first["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    assert max(size_of(thumbnail)) == 320
    full = agent.get(first["url"])
    assert size_of(full) == (1200, 900) and full.headers["content-disposition"] == "inline"
    assert b"Exif" not in full.content
    assert "no-store" in full.headers["cache-control"]
    download = agent.get(first["download_url"])
    assert download.content == full.content
    assert download.headers["content-disposition"].startswith('attachment; filename="photo-')

    # An agent opening a case for the customer attaches the photos held with the conversation.
    opened = agent.post(
        f"{path}/case",
        json={"category": "unordered_device", "contact_phone": "13912345678", "description": "x"},
    )
    case_number = opened.json()["case_number"]
    assert [p["case_number"] for p in agent.get(path).json()["photos"]] == [case_number] * 2
    assert len(inbox.photos_of_case(case_number)) == 2
    named = agent.get(first["download_url"]).headers["content-disposition"]
    assert named == f'attachment; filename="{case_number}-{first["id"][:8]}.jpg"'

    lead = console.login("lead1")
    entries = lead.get("/api/audit", params={"actor": "agent1"}).json()["entries"]
    seen = [(e["action"], e["detail"]) for e in reversed(entries) if "photo" in e["action"]]
    assert seen == [
        ("photo.view", first["id"]),
        ("photo.download", first["id"]),
        ("photo.download", first["id"]),
    ]


def test_only_a_signed_in_agent_gets_a_photo(console: RunningConsole, inbox: PhotoInbox) -> None:
    inbox.receive(CONVERSATION, "widget", [photo_with_gps()])
    console.store.handoffs.enqueue(CONVERSATION, channel="socketio", summary="x")
    agent = console.login("agent1")
    [photo] = agent.get(f"/api/conversations/{CONVERSATION}").json()["photos"]
    urls = [photo["url"], photo["thumbnail_url"], photo["download_url"]]
    assert all(agent.get(url).status_code == 200 for url in urls)

    with console.client() as stranger:
        for url in urls:
            assert stranger.get(url).status_code == 401  # signed out
            # The widget's session and the staff API token are not console sessions.
            widget = {"X-Widget-Session": CONVERSATION.removeprefix("web:")}
            assert stranger.get(url, headers=widget).status_code == 401
            assert stranger.get(url, headers={"Authorization": "Bearer t"}).status_code == 401
        stranger.cookies.set(COOKIE_NAME, "forged.signature")
        assert stranger.get(photo["url"]).status_code == 401
        stranger.cookies.set(COOKIE_NAME, agent.cookies[COOKIE_NAME] + "x")  # tampered
        assert stranger.get(photo["url"]).status_code == 401

    # Ids are 128 random bits: a guess, a row number or a storage key finds nothing.
    for guess in [uuid.uuid4().hex, "1", photo["id"][:-1], "../../cases.db"]:
        assert agent.get(f"/api/photos/{guess}").status_code == 404
    # Nothing in what the page is given names where the file is stored.
    view = agent.get(f"/api/conversations/{CONVERSATION}").text
    assert ".thumb.jpg" not in view and "storage" not in view

    lead = console.login("lead1")
    assert lead.post("/api/agents/agent1/disable").status_code == 200
    assert agent.get(photo["url"]).status_code == 401  # a disabled account's session ended
    assert lead.post("/api/logout").status_code == 200
    assert lead.get(photo["url"]).status_code == 401  # and so did a logged-out one

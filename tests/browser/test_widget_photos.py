"""Evidence photos from the widget: through the relay into the case, without EXIF, readable only
by their sender and staff; bad files refused with nothing stored; during a situation's advice the
receipt counts them against the evidence checklist."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from PIL import ExifTags, Image
from selenium.webdriver.remote.webdriver import WebDriver

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.attachments.storage import LocalFileStorage
from pos_assistant.cases.store import CaseStore
from pos_assistant.identity import conversation_id
from tests.browser.conftest import HostPage
from tests.browser.widget_page import bubbles, find, open_widget, say, wait_for_new_bot_reply
from tests.e2e.stack import API_TOKEN, PROJECT_ROOT, RasaStack, WebServer
from tests.e2e.test_cases_flow import staff

pytestmark = pytest.mark.browser

CASE_NUMBER = re.compile(r"CS\d{10}")
PHOTO_TEXTS = PROJECT_ROOT / "data" / "channels" / "photos.yml"


def write_photo(path: Path, size: tuple[int, int] = (1024, 768)) -> Path:
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "TestPhone 12"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 14.0, 2.0)}
    )
    Image.new("RGB", size, (120, 80, 40)).save(path, format="JPEG", exif=exif.tobytes())
    return path


@pytest.fixture
def inbox(rasa_stack: RasaStack) -> Iterator[PhotoInbox]:
    store = CaseStore(rasa_stack.env["DATABASE_URL"])
    yield PhotoInbox(
        store,
        LocalFileStorage(Path(rasa_stack.env["ATTACHMENTS_DIR"])),
        max_bytes=10 * 1024 * 1024,
        per_message=5,
    )
    store.dispose()


def attach(browser: WebDriver, *paths: Path) -> str:
    """Chooses the files in the widget's picker; returns the assistant's answer."""
    seen = len(bubbles(browser, "bot"))
    find(browser, ".pa-file").send_keys("\n".join(str(path) for path in paths))
    return wait_for_new_bot_reply(browser, seen)[-1]


def chat(browser: WebDriver, text: str) -> str:
    seen = len(bubbles(browser, "bot"))
    say(browser, text)
    return "\n".join(wait_for_new_bot_reply(browser, seen))


def session_of(browser: WebDriver) -> str:
    return browser.execute_script("return localStorage.getItem('posAssistant.sessionId')")


def test_widget_photos_reach_the_case_without_exif_and_only_their_sender_reads_them(
    browser: WebDriver,
    web_server: WebServer,
    rasa_stack: RasaStack,
    inbox: PhotoInbox,
    tmp_path: Path,
) -> None:
    open_widget(browser, web_server.url)
    parcel = write_photo(tmp_path / "parcel.jpg")
    assert attach(browser, parcel).startswith("已收到1张照片，先保存在这次对话里")
    assert bubbles(browser, "user")[-1] == "发送了1张照片"
    conversation = conversation_id("socketio", session_of(browser))
    [held] = inbox.photos_of_conversation(conversation)
    assert held.case_number is None
    # The receipt is in the conversation too, where an agent taking it over reads it.
    events = rasa_stack.tracker(session_of(browser), "socketio")["events"]
    assert any(e["event"] == "bot" and e["text"].startswith("已收到1张照片") for e in events)

    assert "哪类问题" in chat(browser, "我要登记工单")
    assert "手机号" in chat(browser, "没买却收到POS机")
    assert "经过" in chat(browser, "13812345678")
    chat(browser, "家里收到一台没买过的POS机")
    chat(browser, "没有")
    match = CASE_NUMBER.search(chat(browser, "是"))
    assert match
    case_number = match.group(0)
    assert [photo.public_id for photo in inbox.photos_of_case(case_number)] == [held.public_id]

    waybill, serial = write_photo(tmp_path / "waybill.jpg"), write_photo(tmp_path / "serial.png")
    assert attach(browser, waybill, serial).startswith(f"已收到2张照片，已附到工单{case_number}")
    photos = inbox.photos_of_case(case_number)
    assert len(photos) == 3
    for photo in photos:
        with Image.open(io.BytesIO(inbox.storage.get(photo.storage_key))) as image:
            assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
            assert dict(image.getexif()) == {}
    assert staff(rasa_stack, "photos", "list", case_number).count("widget") == 3

    url = f"{web_server.url}/attachments/{held.public_id}"
    owner = httpx.get(url, headers={"X-Widget-Session": session_of(browser)}, timeout=30)
    assert owner.status_code == 200 and owner.headers["content-type"] == "image/jpeg"
    assert b"Exif" not in owner.content
    agent = httpx.get(url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30)
    assert agent.status_code == 200 and agent.content == owner.content
    stranger = {"X-Widget-Session": uuid.uuid4().hex}
    assert httpx.get(url, headers=stranger, timeout=30).status_code == 404
    assert httpx.get(url, timeout=30).status_code == 404
    assert httpx.get(url, headers={"Authorization": "Bearer guess"}, timeout=30).status_code == 404
    guessed = f"{web_server.url}/attachments/{uuid.uuid4().hex}"
    assert httpx.get(guessed, headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 404


def test_a_file_that_is_not_a_photo_is_refused_and_the_chat_goes_on(
    browser: WebDriver, web_server: WebServer, inbox: PhotoInbox, tmp_path: Path
) -> None:
    open_widget(browser, web_server.url)
    fake = tmp_path / "photo.jpg"
    fake.write_text("这不是照片，只是改了名字的文字文件", encoding="utf-8")
    good = write_photo(tmp_path / "good.jpg")
    reply = attach(browser, good, fake)
    assert reply.startswith("第2个文件不是照片") and "都没有保存" in reply
    assert inbox.photos_of_conversation(conversation_id("socketio", session_of(browser))) == []
    assert "有没有人打电话" in chat(browser, "我没买POS机却收到一台")


def upload(web_server: WebServer, files: list[bytes], origin: str | None = None) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    return httpx.post(
        f"{web_server.url}/uploads",
        data={"session": uuid.uuid4().hex},
        files=[("photo", ("p.jpg", data, "image/jpeg")) for data in files],
        headers=headers,
        timeout=60,
    )


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (1, 2, 3)).save(out, format="JPEG")
    return out.getvalue()


def test_the_relay_refuses_oversized_and_too_many_photos_and_other_sites(
    web_server: WebServer, host_page: HostPage, stranger_page: HostPage
) -> None:
    oversized = upload(web_server, [small_jpeg() + b"\0" * (10 * 1024 * 1024)])
    assert oversized.status_code == 413
    assert oversized.json()["text"].startswith("第1张照片超过10MB")
    too_many = upload(web_server, [small_jpeg()] * 6)
    assert too_many.status_code == 400 and "一次最多发5张" in too_many.json()["text"]
    assert upload(web_server, [small_jpeg()], stranger_page.url).status_code == 403
    allowed = upload(web_server, [small_jpeg()], host_page.url)
    assert allowed.status_code == 200 and allowed.json()["count"] == 1
    assert allowed.headers["access-control-allow-origin"] == host_page.url


def test_a_photo_from_the_widget_on_another_site_is_received(
    browser: WebDriver, host_page: HostPage, inbox: PhotoInbox, tmp_path: Path
) -> None:
    open_widget(browser, host_page.url)
    reply = attach(browser, write_photo(tmp_path / "terminal.jpg", (640, 480)))
    assert reply.startswith("已收到1张照片")
    conversation = conversation_id("socketio", session_of(browser))
    assert len(inbox.photos_of_conversation(conversation)) == 1


def test_photos_during_advice_are_counted_against_the_evidence_checklist(
    browser: WebDriver, web_server: WebServer, rasa_stack: RasaStack, tmp_path: Path
) -> None:
    texts = yaml.safe_load(PHOTO_TEXTS.read_text(encoding="utf-8"))["evidence"]
    open_widget(browser, web_server.url)
    assert "有没有人打电话" in chat(browser, "我没买POS机却收到一台")
    # The relay reads where the conversation is from Rasa: inside the situation's questions.
    receipt, checklist = attach(browser, write_photo(tmp_path / "parcel.jpg")).split("\n")
    assert receipt.startswith("已收到1张照片，先保存在这次对话里")
    assert checklist == texts["checklist"].format(
        count=4, items="包裹、快递单（或打字发快递单号）、机器、机器背面的编号（或打字发机身号）"
    ) + texts["photos_so_far"].format(total=1)
    chat(browser, "没有")
    assert "保留证据" in chat(browser, "没有")
    chat(browser, "快递单号SF1234567890123")
    photos = [write_photo(tmp_path / "terminal.jpg"), write_photo(tmp_path / "serial.jpg")]
    reply = attach(browser, *photos)
    assert reply.startswith("已收到2张照片")
    assert reply.split("\n")[1] == (
        texts["typed_done"].format(names="快递单号")
        + texts["checklist"].format(count=3, items="包裹、机器、机器背面的编号（或打字发机身号）")
        + texts["photos_enough"].format(total=3)
    )
    # The agent taking the conversation over reads the same receipt in the transcript.
    events = rasa_stack.tracker(session_of(browser), "socketio")["events"]
    assert any(e["event"] == "bot" and e["text"] == reply for e in events)

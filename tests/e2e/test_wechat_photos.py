"""WeChat image messages: fetched through the media API of the WeChat stand-in, stored without
EXIF, held until the user opens a case over WeChat, then attached to it; during a situation's
advice the receipt counts them against the evidence checklist."""

from __future__ import annotations

import io
import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from PIL import ExifTags, Image

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.attachments.storage import LocalFileStorage
from pos_assistant.cases.store import CaseStore
from pos_assistant.identity import conversation_id
from tests.e2e.stack import PROJECT_ROOT, RasaStack, running_stack
from tests.fakes.wechat_api import FakeWeChatApi, running_fake_wechat_api
from tests.fakes.wechat_server import image_message, post_signed, reply_fields, text_message

pytestmark = pytest.mark.e2e

TOKEN = "photos-wechat-token"
APPID, APPSECRET = "wx-photos-app", "photos-secret"
CASE_NUMBER = re.compile(r"CS\d{10}")
PHOTO_TEXTS = PROJECT_ROOT / "data" / "channels" / "photos.yml"
_msg_ids = itertools.count(int(time.time() * 1000))


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (800, 600), (90, 140, 200))
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 14.0, 2.0)}
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeWeChatApi]:
    with running_fake_wechat_api(APPID, APPSECRET) as api:
        yield api


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, fake_api: FakeWeChatApi) -> Iterator[RasaStack]:
    extra_env = {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_APPSECRET": APPSECRET,
        "WECHAT_API_BASE_URL": fake_api.url,
    }
    with running_stack(tmp_path_factory.mktemp("wechat-photos"), extra_env) as running:
        yield running


@pytest.fixture
def inbox(stack: RasaStack) -> Iterator[PhotoInbox]:
    """The stack's photos, read the way the staff tool reads them."""
    store = CaseStore(stack.env["DATABASE_URL"])
    yield PhotoInbox(
        store,
        LocalFileStorage(Path(stack.env["ATTACHMENTS_DIR"])),
        max_bytes=10 * 1024 * 1024,
        per_message=5,
    )
    store.dispose()


def say(stack: RasaStack, openid: str, text: str) -> str:
    answer = post_signed(stack.rasa_url, TOKEN, text_message(openid, text, next(_msg_ids)))
    assert answer.status_code == 200, answer.text
    return reply_fields(answer.text)["Content"]


def send_image(stack: RasaStack, openid: str, media_id: str, msg_id: int | None = None) -> str:
    body = image_message(openid, msg_id or next(_msg_ids), media_id)
    answer = post_signed(stack.rasa_url, TOKEN, body)
    assert answer.status_code == 200, answer.text
    return reply_fields(answer.text)["Content"]


def test_a_wechat_photo_is_fetched_held_and_attached_to_the_case_opened_later(
    stack: RasaStack, fake_api: FakeWeChatApi, inbox: PhotoInbox, sender: str
) -> None:
    fake_api.add_media(f"{sender}-parcel", jpeg_with_gps())
    msg_id = next(_msg_ids)
    reply = send_image(stack, sender, f"{sender}-parcel", msg_id)
    assert reply.startswith("已收到1张照片，先保存在这次对话里")
    # WeChat retries a message it got no answer to in time: the photo is fetched and kept once.
    assert send_image(stack, sender, f"{sender}-parcel", msg_id) == reply
    assert fake_api.media_downloads.count(f"{sender}-parcel") == 1
    conversation = conversation_id("wechat", sender)
    [held] = inbox.photos_of_conversation(conversation)
    assert held.case_number is None and held.source == "wechat"

    assert "哪类问题" in say(stack, sender, "我要登记工单")
    assert "手机号" in say(stack, sender, "没买却收到POS机")
    assert "经过" in say(stack, sender, "13812345678")
    say(stack, sender, "家里收到一台没买过的POS机")
    say(stack, sender, "没有")
    match = CASE_NUMBER.search(say(stack, sender, "是"))
    assert match
    case_number = match.group(0)
    [attached] = inbox.photos_of_case(case_number)
    assert attached.public_id == held.public_id
    stored = inbox.storage.get(attached.storage_key)
    with Image.open(io.BytesIO(stored)) as image:
        assert dict(image.getexif()) == {} and image.size == (800, 600)

    fake_api.add_media(f"{sender}-waybill", jpeg_with_gps())
    reply = send_image(stack, sender, f"{sender}-waybill")
    assert reply.startswith(f"已收到1张照片，已附到工单{case_number}")
    assert len(inbox.photos_of_case(case_number)) == 2


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        (None, "照片没有收到"),  # WeChat answers errcode 40007: unknown media id
        ((b"<html>not a photo</html>", "image/jpeg"), "不是照片"),
        ((jpeg_with_gps()[:3000], "image/jpeg"), "不完整"),
    ],
    ids=["unknown-media", "not-an-image", "truncated"],
)
def test_a_bad_wechat_photo_gets_a_clear_reply_and_nothing_is_stored(
    stack: RasaStack,
    fake_api: FakeWeChatApi,
    inbox: PhotoInbox,
    sender: str,
    media: tuple[bytes, str] | None,
    expected: str,
) -> None:
    if media is not None:
        fake_api.add_media(f"{sender}-bad", *media)
    assert expected in send_image(stack, sender, f"{sender}-bad")
    assert inbox.photos_of_conversation(conversation_id("wechat", sender)) == []
    # The conversation goes on.
    assert "有没有人打电话或发消息联系您" in say(stack, sender, "我没买POS机却收到一台")


def test_photos_during_advice_are_counted_against_the_evidence_checklist(
    stack: RasaStack, fake_api: FakeWeChatApi, sender: str
) -> None:
    texts = yaml.safe_load(PHOTO_TEXTS.read_text(encoding="utf-8"))["evidence"]
    assert "有没有人打电话或发消息联系您" in say(stack, sender, "我没买POS机却收到一台")
    # While the situation's questions are asked: the checklist for what is known so far.
    fake_api.add_media(f"{sender}-parcel", jpeg_with_gps())
    receipt, checklist = send_image(stack, sender, f"{sender}-parcel").split("\n")
    assert receipt.startswith("已收到1张照片，先保存在这次对话里")
    assert checklist == texts["checklist"].format(
        count=4, items="包裹、快递单（或打字发快递单号）、机器、机器背面的编号（或打字发机身号）"
    ) + texts["photos_so_far"].format(total=1)
    say(stack, sender, "没有")
    assert "保留证据" in say(stack, sender, "没有")
    # After the steps, with the waybill number typed: that item is done, two photos cover less
    # than the three left, and the receipt stays short enough for a phone.
    say(stack, sender, "快递单号SF1234567890123")
    fake_api.add_media(f"{sender}-terminal", jpeg_with_gps())
    reply = send_image(stack, sender, f"{sender}-terminal")
    assert reply.split("\n")[1] == (
        texts["typed_done"].format(names="快递单号")
        + texts["checklist"].format(count=3, items="包裹、机器、机器背面的编号（或打字发机身号）")
        + texts["photos_so_far"].format(total=2)
    )
    assert len(reply) <= 160
    fake_api.add_media(f"{sender}-serial", jpeg_with_gps())
    reply = send_image(stack, sender, f"{sender}-serial")
    assert reply.endswith(texts["photos_enough"].format(total=3))


def test_a_photo_outside_any_advice_gets_the_plain_receipt(
    stack: RasaStack, fake_api: FakeWeChatApi, sender: str
) -> None:
    say(stack, sender, "你好")
    fake_api.add_media(f"{sender}-photo", jpeg_with_gps())
    reply = send_image(stack, sender, f"{sender}-photo")
    assert reply == "已收到1张照片，先保存在这次对话里；您登记工单后，照片会自动附到工单上。"

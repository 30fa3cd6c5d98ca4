"""Photo uploads from the widget, and reading a photo back (its sender or staff only).

POST /uploads: multipart/form-data with `session` (the widget's socket.io session id, which
is the conversation `web:<session>`) and up to PHOTOS_PER_MESSAGE `photo` files. Each file is
read in chunks and refused past PHOTO_MAX_BYTES, so a large upload never sits in memory whole.
The answer is the assistant's reply in Chinese (`text`), also on refusal; the reply is added
to the conversation in Rasa (when RASA_API_TOKEN is set) so agents read it in the transcript.
During a situation's advice the reply also carries the evidence checklist, read from the
conversation's state in Rasa (pos_assistant/attachments/evidence.py).

GET /attachments/<public id>[?size=thumb]: the JPEG, for the conversation that sent it
(`X-Widget-Session` header) or staff (`Authorization: Bearer <RASA_API_TOKEN>`); 404 otherwise,
the same as for an id that does not exist.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from urllib.parse import quote

import aiohttp
from aiohttp import web

from pos_assistant.attachments.inbox import PhotoInbox, PhotosRefused
from pos_assistant.attachments.texts import receipt_text, refusal_text
from pos_assistant.cases.errors import StoreUnavailable
from pos_assistant.channels.addresses import client_address, parse_trusted_proxies
from pos_assistant.identity import conversation_id
from pos_assistant.settings import Settings

logger = logging.getLogger("web.attachments")

SESSION_ID = re.compile(r"[0-9a-f]{32}")
PUBLIC_ID = re.compile(r"[0-9a-f]{32}")
CHUNK = 64 * 1024

INBOX: web.AppKey[PhotoInbox] = web.AppKey("photo_inbox", PhotoInbox)
SETTINGS: web.AppKey[Settings] = web.AppKey("attachment_settings", Settings)
RASA_BASE: web.AppKey[str] = web.AppKey("attachment_rasa_url", str)


class _Refused(Exception):
    def __init__(self, refusal: PhotosRefused, status: int = 400) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal
        self.status = status


async def _read_upload(request: web.Request, settings: Settings) -> tuple[str, list[bytes]]:
    """The session and the files; a refusal only after the body is read (up to a cap), so the
    browser gets the answer instead of a reset connection."""
    session = ""
    files: list[bytes] = []
    refusal: PhotosRefused | None = None
    budget = (settings.photos_per_message + 1) * settings.photo_max_bytes + CHUNK
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, aiohttp.BodyPartReader):
            continue
        if part.name == "session":
            session = (await part.read(decode=False))[:64].decode("ascii", "replace")
            continue
        if part.name != "photo":
            continue
        data = bytearray()
        while chunk := await part.read_chunk(CHUNK):
            budget -= len(chunk)
            if budget < 0:
                raise _Refused(PhotosRefused("too_large", len(files) + 1), 413)
            if refusal is None and len(data) <= settings.photo_max_bytes:
                data.extend(chunk)
        if refusal is not None:
            continue
        if len(files) == settings.photos_per_message:
            refusal = PhotosRefused("too_many_photos")
        elif len(data) > settings.photo_max_bytes:
            refusal = PhotosRefused("too_large", len(files) + 1)
        else:
            files.append(bytes(data))
    if refusal is not None:
        raise _Refused(refusal, 413 if refusal.reason == "too_large" else 400)
    return session, files


async def upload(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    inbox = request.app[INBOX]
    try:
        session, files = await _read_upload(request, settings)
        if not SESSION_ID.fullmatch(session):
            return web.json_response({"ok": False, "error": "no session"}, status=400)
        conversation = conversation_id("socketio", session)
        # Behind a reverse proxy the peer is the proxy: per-address limits need the browser's.
        address = client_address(
            request.remote or "",
            request.headers.get("X-Forwarded-For"),
            parse_trusted_proxies(settings.trusted_proxies),
        )
        receipt = await asyncio.to_thread(inbox.receive, conversation, "widget", files, address)
    except _Refused as refused:
        return _refusal(refused.refusal, settings, refused.status)
    except PhotosRefused as refusal:
        return _refusal(refusal, settings, 429 if refusal.reason == "too_fast" else 400)
    except (StoreUnavailable, OSError) as error:
        logger.warning("photos not stored: %s", error.__class__.__name__)
        return _refusal(PhotosRefused("unavailable"), settings, 503)
    except ValueError:  # a malformed multipart body
        return _refusal(PhotosRefused("no_photo"), settings, 400)
    text = receipt_text(receipt, await _conversation_state(request, conversation))
    await _record_in_conversation(request, conversation, text)
    return web.json_response({"ok": True, "text": text, "count": receipt.count})


def _refusal(refusal: PhotosRefused, settings: Settings, status: int) -> web.Response:
    text = refusal_text(
        refusal, max_bytes=settings.photo_max_bytes, max_count=settings.photos_per_message
    )
    return web.json_response({"ok": False, "reason": refusal.reason, "text": text}, status=status)


async def _conversation_state(request: web.Request, conversation: str) -> dict | None:
    """The conversation's slots and active form from Rasa (for the evidence checklist during
    advice); None without RASA_API_TOKEN or when Rasa does not answer: the plain receipt."""
    token = request.app[SETTINGS].rasa_api_token
    if not token:
        return None
    url = f"{request.app[RASA_BASE]}/conversations/{quote(conversation, safe=':')}/tracker"
    try:
        async with (
            aiohttp.ClientSession() as client,
            client.get(
                url,
                params={"token": token, "include_events": "NONE"},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as answer,
        ):
            if answer.status == 200:
                return await answer.json()
            logger.warning("conversation state not read from Rasa: HTTP %s", answer.status)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        logger.warning("conversation state not read from Rasa: %s", error.__class__.__name__)
    return None


async def _record_in_conversation(request: web.Request, conversation: str, text: str) -> None:
    """Adds the acknowledgement to the Rasa conversation (not sent again: the widget shows it)."""
    token = request.app[SETTINGS].rasa_api_token
    if not token:
        return
    base = request.app[RASA_BASE]
    url = f"{base}/conversations/{quote(conversation, safe=':')}/tracker/events"
    try:
        async with (
            aiohttp.ClientSession() as client,
            client.post(
                url,
                params={"token": token},
                json=[{"event": "bot", "text": text, "metadata": {"photos": True}}],
                timeout=aiohttp.ClientTimeout(total=10),
            ) as answer,
        ):
            if answer.status != 200:
                logger.warning("photo receipt not recorded in Rasa: HTTP %s", answer.status)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        logger.warning("photo receipt not recorded in Rasa: %s", error.__class__.__name__)


async def photo(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    public_id = request.match_info["public_id"]
    if not PUBLIC_ID.fullmatch(public_id):
        raise web.HTTPNotFound()
    session = request.headers.get("X-Widget-Session", "")
    owner = conversation_id("socketio", session) if SESSION_ID.fullmatch(session) else None
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    staff = bool(settings.rasa_api_token) and secrets.compare_digest(
        bearer.encode(), settings.rasa_api_token.encode()
    )
    inbox = request.app[INBOX]
    found = await asyncio.to_thread(inbox.photo_for, public_id, owner, staff=staff)
    if found is None:
        raise web.HTTPNotFound()
    key = found.thumbnail_key if request.query.get("size") == "thumb" else found.storage_key
    data = await asyncio.to_thread(inbox.storage.get, key)
    return web.Response(
        body=data,
        content_type="image/jpeg",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )


def add_routes(app: web.Application, inbox: PhotoInbox, settings: Settings, rasa_url: str) -> None:
    app[INBOX] = inbox
    app[SETTINGS] = settings
    app[RASA_BASE] = rasa_url.rstrip("/")
    app.router.add_post("/uploads", upload)
    app.router.add_get("/attachments/{public_id}", photo)

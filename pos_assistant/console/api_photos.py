"""Evidence photos for agents: the thumbnails and full images of the conversation on screen.

GET /api/photos/<public id>[?size=thumb][&download=1] answers the JPEG (already re-encoded without
EXIF when it was received) to a signed-in agent only: the auth middleware answers 401 to anyone
without a live console session, and an id that is not a photo's random 128-bit public id answers
404. Opening or downloading a full image is written to the audit log; thumbnails are not (they
load with every view of the conversation).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from pos_assistant.attachments.inbox import PhotoInbox, StoredPhoto
from pos_assistant.cases.errors import StoreUnavailable
from pos_assistant.console.auth import account_of, error
from pos_assistant.console.context import context_of, run

routes = web.RouteTableDef()
PUBLIC_ID = re.compile(r"[0-9a-f]{32}")
MAX_PHOTOS = 50  # a view lists at most this many (newest kept)


def photo_entry(photo: StoredPhoto) -> dict[str, Any]:
    url = f"/api/photos/{photo.public_id}"
    return {
        "id": photo.public_id,
        "thumbnail_url": f"{url}?size=thumb",
        "url": url,
        "download_url": f"{url}?download=1",
        "source": photo.source,
        "case_number": photo.case_number,
        "width": photo.width,
        "height": photo.height,
        "kilobytes": max(1, photo.byte_size // 1024),
        "at": photo.created_at.isoformat(),
    }


def photos_view(
    inbox: PhotoInbox, conversation_id: str, case_number: str | None
) -> list[dict[str, Any]]:
    """The photos the conversation sent (held or attached) and those of the case on its card,
    oldest first. A database failure leaves the list empty rather than the whole view."""
    try:
        found = {photo.public_id: photo for photo in inbox.photos_of_conversation(conversation_id)}
        if case_number:
            found.update({photo.public_id: photo for photo in inbox.photos_of_case(case_number)})
    except StoreUnavailable:
        return []
    ordered = sorted(found.values(), key=lambda photo: photo.created_at)
    return [photo_entry(photo) for photo in ordered[-MAX_PHOTOS:]]


@routes.get("/api/photos/{public_id}")
async def photo(request: web.Request) -> web.Response:
    context = context_of(request)
    public_id = request.match_info["public_id"]
    if not PUBLIC_ID.fullmatch(public_id):
        return error(404, "not_found")
    found = await run(context.photos.photo_for, public_id, None, staff=True)
    if found is None:
        return error(404, "not_found")
    thumbnail = request.query.get("size") == "thumb"
    download = request.query.get("download") == "1"
    try:
        data = await run(
            context.photos.storage.get, found.thumbnail_key if thumbnail else found.storage_key
        )
    except OSError:
        return error(404, "not_found")  # the row without its file: nothing to show
    if not thumbnail:
        action = "photo.download" if download else "photo.view"
        target = found.case_number or found.conversation_id
        await run(context.audit.record, account_of(request).username, action, target, public_id)
    name = f"{found.case_number or 'photo'}-{public_id[:8]}.jpg"
    disposition = f'attachment; filename="{name}"' if download else "inline"
    return web.Response(
        body=data,
        content_type="image/jpeg",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": disposition},
    )

"""WeChat image messages: the photo is fetched through the media API and attached like a
widget upload (pos_assistant/attachments/).

An image message carries `PicUrl` (a CDN address) and `MediaId`. Only the MediaId is used:
`GET /cgi-bin/media/get?access_token=…&media_id=…` answers the file itself, or JSON with an
`errcode` (wechatpy raises WeChatClientException for that). Fetching PicUrl would make this
server download any address a message names. During a situation's advice the receipt carries
the evidence checklist, read from the conversation's tracker (attachments/evidence.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import requests
from rasa.shared.core.trackers import EventVerbosity
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from pos_assistant.attachments.inbox import PhotoInbox, PhotosRefused
from pos_assistant.attachments.texts import receipt_text, refusal_text
from pos_assistant.cases.errors import StoreUnavailable
from pos_assistant.channels.wechat_api import redact_secrets
from pos_assistant.identity import conversation_id

logger = logging.getLogger(__name__)
STATE_TIMEOUT_SECONDS = 2.0


async def download_media(client: WeChatClient, media_id: str, lock: asyncio.Lock) -> bytes:
    async with lock:  # a token fetch invalidates the previous token: one at a time
        answer = await asyncio.to_thread(client.media.download, media_id)
    return bytes(answer.content)


async def conversation_state(agent: Any, conversation: str) -> dict[str, Any] | None:
    """The conversation's slots and active form (for the evidence checklist during advice), read
    from the Rasa agent's tracker store without changing it; None when it cannot be read."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        tracker = await asyncio.wait_for(store.retrieve(conversation), STATE_TIMEOUT_SECONDS)
    except Exception as error:  # the receipt goes out without the checklist
        logger.warning("conversation state not read: %s", error.__class__.__name__)
        return None
    return tracker.current_state(EventVerbosity.NONE) if tracker is not None else None


async def receive_photo(
    client: WeChatClient | None,
    inbox: PhotoInbox,
    openid: str,
    media_id: str,
    lock: asyncio.Lock,
    agent: Any = None,
) -> str:
    """The reply to one image message: the receipt, or why nothing was stored."""
    limits = {"max_bytes": inbox.max_bytes, "max_count": inbox.per_message}
    if client is None or not media_id:
        logger.warning("WeChat photo not fetched: WECHAT_APPID/WECHAT_APPSECRET not set")
        return refusal_text(PhotosRefused("download_failed"), **limits)
    try:
        data = await download_media(client, media_id, lock)
    except (WeChatClientException, requests.RequestException) as error:
        logger.warning("WeChat photo not fetched: %s", redact_secrets(str(error)))
        return refusal_text(PhotosRefused("download_failed"), **limits)
    conversation = conversation_id("wechat", openid)
    try:
        receipt = await asyncio.to_thread(inbox.receive, conversation, "wechat", [data])
    except PhotosRefused as refusal:
        return refusal_text(refusal, **limits)
    except (StoreUnavailable, OSError) as error:
        logger.warning("WeChat photo not stored: %s", error.__class__.__name__)
        return refusal_text(PhotosRefused("unavailable"), **limits)
    return receipt_text(receipt, await conversation_state(agent, conversation))

"""The process-wide PhotoInbox, built from settings on first call."""

from __future__ import annotations

import logging
from functools import lru_cache

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.cases.errors import StoreUnavailable
from pos_assistant.cases.provider import get_case_store
from pos_assistant.settings import get_settings

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def get_photo_inbox() -> PhotoInbox:
    return PhotoInbox.from_settings(get_settings(), get_case_store())


def attach_held_photos(conversation_id: str, case_number: str) -> int:
    """Moves the photos a conversation sent before it had a case onto its new case. A database
    hiccup here must not undo the case: the photos stay held and are logged."""
    try:
        return get_photo_inbox().attach_held(conversation_id, case_number)
    except StoreUnavailable:
        logger.warning("held photos not attached to the new case (database unavailable)")
        return 0

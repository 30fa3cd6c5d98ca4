"""The process-wide PhotoInbox, over the process-wide case store (built on first call)."""

from __future__ import annotations

import logging
from functools import lru_cache

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.cases import provider as case_provider
from pos_assistant.cases.store import CaseStore
from pos_assistant.settings import get_settings

logger = logging.getLogger(__name__)


def get_photo_inbox() -> PhotoInbox:
    return _inbox_over(case_provider.get_case_store())


@lru_cache(maxsize=4)
def _inbox_over(store: CaseStore) -> PhotoInbox:
    # One inbox per store (its upload limits are counted in the store's database).
    return PhotoInbox.from_settings(get_settings(), store)


def attach_held_photos(conversation_id: str, case_number: str) -> int:
    """Moves the photos a conversation sent before it had a case onto its new case. The case is
    already written: whatever goes wrong here must not turn its confirmation into an error, so
    the photos stay held and the failure is logged."""
    try:
        return get_photo_inbox().attach_held(conversation_id, case_number)
    except Exception:
        logger.warning("held photos not attached to case %s", case_number, exc_info=True)
        return 0

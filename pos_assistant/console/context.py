"""What every console route needs, built once per app; store errors mapped to HTTP answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from pos_assistant.attachments.inbox import PhotoInbox
from pos_assistant.cases.errors import (
    CaseNotFound,
    CaseStoreError,
    HandoffNotFound,
    HandoffTakenByOther,
    InvalidCaseData,
    InvalidStatusTransition,
    StoreUnavailable,
)
from pos_assistant.cases.labels import CaseLabels
from pos_assistant.cases.store import CaseStore
from pos_assistant.console.accounts import AccountStore
from pos_assistant.console.audit import AuditLog
from pos_assistant.console.auth import CookieSigner, error
from pos_assistant.console.corrections import Corrections
from pos_assistant.console.tracker_cache import TrackerCache
from pos_assistant.handoff.service import HandoffService, InvalidReply, WeChatWindowClosed
from pos_assistant.settings import Settings
from pos_assistant.staff.rasa_client import RasaUnreachable

T = TypeVar("T")
MAX_JSON_BYTES = 16 * 1024


@dataclass
class ConsoleContext:
    settings: Settings
    store: CaseStore
    accounts: AccountStore
    audit: AuditLog
    handoffs: HandoffService
    labels: CaseLabels
    signer: CookieSigner
    corrections: Corrections
    photos: PhotoInbox
    trackers: TrackerCache = field(default_factory=TrackerCache)


CONTEXT: web.AppKey[ConsoleContext] = web.AppKey("console_context", ConsoleContext)


def context_of(request: web.Request) -> ConsoleContext:
    return request.app[CONTEXT]


class ApiError(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.text)
        self.response = response


def answer_for(failure: Exception) -> web.Response:
    """The HTTP answer for an error of the store, the handoff service or Rasa."""
    if isinstance(failure, HandoffTakenByOther):
        return error(409, "taken_by_other", owner=failure.owner)
    if isinstance(failure, WeChatWindowClosed):
        return error(409, "wechat_window_closed", ended_at=failure.ended_at.isoformat())
    if isinstance(failure, (HandoffNotFound, CaseNotFound)):
        return error(404, "not_found")
    if isinstance(failure, InvalidStatusTransition):
        return error(409, "status_change_not_allowed")
    if isinstance(failure, (InvalidReply, InvalidCaseData)):
        return error(400, "invalid", detail=str(failure))
    if isinstance(failure, RasaUnreachable):
        return error(502, "assistant_unreachable")
    if isinstance(failure, StoreUnavailable):
        return error(503, "database_unavailable")
    return error(400, "refused", detail=str(failure))


async def run(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs a blocking store/Rasa call off the event loop; its errors become ApiError."""
    try:
        return await asyncio.to_thread(call, *args, **kwargs)
    except (CaseStoreError, RasaUnreachable) as failure:
        raise ApiError(answer_for(failure)) from failure


async def json_body(request: web.Request) -> dict[str, Any]:
    """A JSON object body of bounded size, else 400."""
    if request.content_type != "application/json":
        raise ApiError(error(415, "json_required"))
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(error(413, "too_large"))
    try:
        body = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(error(400, "bad_json")) from None
    if not isinstance(body, dict):
        raise ApiError(error(400, "bad_json"))
    return body


@web.middleware
async def api_errors(request: web.Request, handler: Callable) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as failure:
        return failure.response

"""The handoff service: take, read, answer and release a conversation handed to a person.

One service, two faces: the staff command-line tool and the agent console call these methods and
nothing else, so ownership, the WeChat window and the order "resume in Rasa, then release in the
queue" are decided in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pos_assistant.cases.errors import CaseStoreError, HandoffNotFound, HandoffTakenByOther
from pos_assistant.cases.store import CaseStore
from pos_assistant.handoff.records import HandoffRequest
from pos_assistant.identity import channel_of_conversation
from pos_assistant.settings import Settings
from pos_assistant.staff.rasa_client import (
    RasaUnreachable,
    fetch_tracker,
    resume_conversation,
    send_agent_message,
)

# WeChat accepts customer-service messages within 48 hours of the user's last message.
WECHAT_WINDOW = timedelta(hours=48)
MAX_REPLY_CHARS = 2000
OPEN_STATUSES = ("waiting", "taken")

ResumeFunction = Callable[[str, str, str], None]
SendFunction = Callable[[str, str, str, str, str], None]
FetchFunction = Callable[[str, str, str], dict[str, Any]]


class InvalidReply(CaseStoreError):
    """An empty or over-long agent message."""


class WeChatWindowClosed(CaseStoreError):
    """The user's last WeChat message is older than 48 hours: WeChat would refuse the message."""

    def __init__(self, ended_at: datetime) -> None:
        super().__init__(f"the WeChat 48-hour window ended at {ended_at.isoformat()}")
        self.ended_at = ended_at


def last_user_message_at(events: list[dict[str, Any]]) -> datetime | None:
    stamps = [
        float(e["timestamp"]) for e in events if e.get("event") == "user" and e.get("timestamp")
    ]
    return datetime.fromtimestamp(max(stamps), tz=timezone.utc) if stamps else None


def wechat_window_end(conversation_id: str, events: list[dict[str, Any]]) -> datetime | None:
    """When the 48-hour window closes, for a WeChat conversation with a user message; else None."""
    if channel_of_conversation(conversation_id) != "wechat":
        return None
    last = last_user_message_at(events)
    return last + WECHAT_WINDOW if last else None


@dataclass(frozen=True)
class Conversation:
    request: HandoffRequest
    tracker: dict[str, Any]

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self.tracker.get("events") or [])

    @property
    def slots(self) -> dict[str, Any]:
        return dict(self.tracker.get("slots") or {})


class HandoffService:
    def __init__(
        self,
        store: CaseStore,
        settings: Settings,
        *,
        resume: ResumeFunction = resume_conversation,
        send: SendFunction = send_agent_message,
        fetch: FetchFunction = fetch_tracker,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.store = store
        self.settings = settings
        self._resume = resume
        self._send = send
        self._fetch = fetch
        self._clock = clock

    def requests(self, statuses: tuple[str, ...] = OPEN_STATUSES) -> list[HandoffRequest]:
        return self.store.handoffs.list(statuses)

    def open_request(self, conversation_id: str) -> HandoffRequest:
        for request in self.store.handoffs.list(OPEN_STATUSES):
            if request.conversation_id == conversation_id:
                return request
        raise HandoffNotFound(conversation_id)

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's tracker from Rasa (texts masked by the tracker store)."""
        return self._fetch(self.settings.rasa_url, self.settings.rasa_api_token, conversation_id)

    def conversation(self, conversation_id: str) -> Conversation:
        request = self.open_request(conversation_id)
        return Conversation(request, self.tracker(conversation_id))

    def take(self, conversation_id: str, agent: str, *, reassign: bool = False) -> HandoffRequest:
        """`agent` owns the conversation; HandoffTakenByOther if someone else does (a lead passes
        `reassign`)."""
        return self.store.handoffs.take(conversation_id, agent, reassign=reassign)

    def reply(self, conversation_id: str, agent: str, text: str) -> HandoffRequest:
        """Sends `text` through the user's own channel, taking a waiting conversation first."""
        if not text.strip() or len(text) > MAX_REPLY_CHARS:
            raise InvalidReply(f"the message must be 1-{MAX_REPLY_CHARS} characters")
        request = self.open_request(conversation_id)
        if request.status == "taken" and request.taken_by != agent:
            raise HandoffTakenByOther(conversation_id, request.taken_by or "")
        if channel_of_conversation(conversation_id) == "wechat":
            ends = wechat_window_end(
                conversation_id, self.tracker(conversation_id).get("events") or []
            )
            if ends is not None and ends <= self._clock():
                raise WeChatWindowClosed(ends)
        if request.status == "waiting":
            request = self.take(conversation_id, agent)
        self._send(
            self.settings.rasa_url, self.settings.rasa_api_token, conversation_id, text, agent
        )
        self.store.handoffs.mark_agent_active(conversation_id)
        return request

    def requeue_abandoned(self, notice: str) -> list[tuple[HandoffRequest, str]]:
        """Taken conversations whose agent has not replied for HANDOFF_AGENT_TIMEOUT minutes go
        back to the queue, and the customer gets `notice` (as the assistant, not an agent).
        Returns each with the agent who left it. A notice that cannot be sent is not retried:
        the conversation is back in the queue either way."""
        idle = timedelta(minutes=self.settings.handoff_agent_timeout)
        requeued = self.store.handoffs.requeue_abandoned(idle)
        for request, _owner in requeued:
            try:
                self._send(
                    self.settings.rasa_url,
                    self.settings.rasa_api_token,
                    request.conversation_id,
                    notice,
                    "",
                )
            except RasaUnreachable:
                pass
        return requeued

    def release(
        self,
        conversation_id: str,
        *,
        agent: str | None = None,
        summary: str | None = None,
        reassign: bool = False,
    ) -> HandoffRequest:
        """Hands the conversation back to the assistant. The summary stays with staff."""
        request = self.open_request(conversation_id)
        owner = request.taken_by
        if agent and request.status == "taken" and owner != agent and not reassign:
            raise HandoffTakenByOther(conversation_id, owner or "")
        # Resume first: if Rasa is down the request stays open and the release can be retried.
        self._resume(self.settings.rasa_url, self.settings.rasa_api_token, conversation_id)
        return self.store.handoffs.release(conversation_id, summary)

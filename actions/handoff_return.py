"""A handoff that informs and can be undone.

- When the conversation is handed over, the user is told the usual wait and the agents' working
  hours (HANDOFF_EXPECTED_WAIT_MINUTES, HANDOFF_HOURS), and what to do meanwhile in an emergency.
- While nobody has answered yet, every message gets a word back instead of silence: "不用了"
  withdraws the queue entry and gives the conversation back to the assistant; a message about a
  code or money gets 110 / 96110 / freezing the card; anything else is acknowledged as kept for
  the agent (once per stretch of messages: a user typing several lines is not answered each time).
- Once an agent has written, the assistant says nothing: the agent answers.

These run inside action_validate_slot_mappings (actions/every_message.py), the only action Rasa
runs while a conversation is paused. That action cannot resume the conversation (Rasa keeps only
its slots and messages), so the resume is the events the staff tool's `handoff release` appends,
sent through Rasa's API; Rasa appends them when this turn is over (it holds the lock till then).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_reading import latest_text
from pos_assistant.cases import provider
from pos_assistant.cases.errors import CaseStoreError, HandoffNotFound
from pos_assistant.settings import get_settings
from pos_assistant.staff.rasa_client import RESUME_EVENTS
from pos_assistant.working_hours import WorkingHours

logger = logging.getLogger(__name__)

RETURN_FILE = Path(__file__).resolve().parent.parent / "data" / "handoff_return.yml"
STARTED_RESPONSE = "utter_handoff_started"
STARTED_AFTER_HOURS_RESPONSE = "utter_handoff_started_after_hours"
WITHDRAWN_RESPONSE = "utter_handoff_withdrawn"
WITHDRAW_FAILED_RESPONSE = "utter_handoff_withdraw_failed"
KEPT_RESPONSE = "utter_handoff_message_kept"
EMERGENCY_RESPONSE = "utter_handoff_emergency"
_SPACES = re.compile(r"\s+")
# The resume waits for this turn to end (the conversation's lock): bounded, like every call.
RESUME_TIMEOUT_SECONDS = 60.0
SEND_WAIT_SECONDS = 5.0


@lru_cache(maxsize=1)
def _withdraw_phrases() -> tuple[str, ...]:
    raw = yaml.safe_load(RETURN_FILE.read_text(encoding="utf-8")) or {}
    return tuple(str(p).lower() for p in raw.get("withdraw") or [])


def wants_assistant_back(text: str | None) -> bool:
    if not text:
        return False
    lowered = text.lower()
    compact = _SPACES.sub("", lowered)
    return any(p in (lowered if " " in p else compact) for p in _withdraw_phrases())


def handoff_started(dispatcher: CollectingDispatcher, now: datetime | None = None) -> None:
    """The handoff message: the usual wait in working hours, else when agents are back."""
    settings = get_settings()
    hours = WorkingHours.parse(settings.handoff_hours)
    moment = now or datetime.now(timezone.utc)
    dispatcher.utter_message(
        response=STARTED_RESPONSE if hours.is_open(moment) else STARTED_AFTER_HOURS_RESPONSE,
        wait_minutes=str(settings.handoff_expected_wait_minutes),
        working_hours=hours.label(),
    )


def _since_pause(tracker: Tracker) -> list[dict[str, Any]]:
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "pause":
            return events[index + 1 :]
    return []


def agent_has_answered(tracker: Tracker) -> bool:
    """An agent's message (the staff tool marks it with metadata.agent) since the handoff."""
    return any(
        event.get("event") == "bot" and (event.get("metadata") or {}).get("agent")
        for event in _since_pause(tracker)
    )


def acknowledged_since_last_reply(tracker: Tracker) -> bool:
    """Whether the user's earlier messages of this stretch were already answered with "kept"."""
    for event in reversed(_since_pause(tracker)):
        if event.get("event") == "bot":
            return True  # anything said to the user after the pause tells them they are heard
    return False


def _resume_after_this_turn(conversation_id: str) -> None:
    """Sends the staff tool's resume events to Rasa and returns once the request is on its way.

    Rasa appends them when it gets the conversation's lock, i.e. after this turn. Returning only
    when the request has been sent makes Rasa take it in (and queue it for the lock) before this
    turn's reply goes out, so the user's next message is always handled after the resume.
    """
    settings = get_settings()
    url = f"{settings.rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe=':')}"
    sent = threading.Event()

    def trace(name: str, info: dict[str, Any]) -> None:
        if name.endswith("send_request_body.complete"):
            sent.set()

    def resume() -> None:
        try:
            with httpx.Client(timeout=RESUME_TIMEOUT_SECONDS) as client:
                response = client.post(
                    f"{url}/tracker/events",
                    params={"token": settings.rasa_api_token},
                    json=RESUME_EVENTS,
                    extensions={"trace": trace},
                )
            if response.status_code != 200:
                logger.warning("resume refused by Rasa: HTTP %s", response.status_code)
        except Exception:  # a thread of its own: nothing above it would log the error
            logger.exception("could not give a conversation back to the assistant")
        finally:
            sent.set()

    threading.Thread(target=resume, name="handoff-resume", daemon=True).start()
    sent.wait(SEND_WAIT_SECONDS)


# Tests replace it to see the call without a Rasa server.
resume_later: Callable[[str], None] = _resume_after_this_turn


def withdraw(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Takes the conversation out of the queue and gives it back to the assistant."""
    if not get_settings().rasa_api_token:
        # Without Rasa's API the conversation cannot be resumed: leave it queued for a person.
        logger.warning("handoff not withdrawn: RASA_API_TOKEN is not set for the action server")
        dispatcher.utter_message(response=WITHDRAW_FAILED_RESPONSE)
        return
    try:
        provider.get_case_store().handoffs.release(tracker.sender_id)
    except HandoffNotFound:
        pass  # already released by staff: giving the conversation back is still right
    except CaseStoreError as error:
        logger.warning("handoff not withdrawn: %s", error.__class__.__name__)
        dispatcher.utter_message(response=WITHDRAW_FAILED_RESPONSE)
        return
    resume_later(tracker.sender_id)
    dispatcher.utter_message(response=WITHDRAWN_RESPONSE)


def answer_while_waiting(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, reminded: bool, in_danger: bool
) -> None:
    """A word back to a user waiting for a person, unless an agent is already answering."""
    if not tracker.is_paused() or agent_has_answered(tracker):
        return
    text = latest_text(tracker)
    if wants_assistant_back(text):
        withdraw(dispatcher, tracker)
        return
    if reminded:
        return  # the reminder says the messages are kept, with 110 and the freeze
    if in_danger:
        dispatcher.utter_message(response=EMERGENCY_RESPONSE)
    # Anything already said in this turn (the privacy notice) is a word back too.
    elif not dispatcher.messages and not acknowledged_since_last_reply(tracker):
        dispatcher.utter_message(response=KEPT_RESPONSE)

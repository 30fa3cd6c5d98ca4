"""Reading a conversation's tracker: the helpers every action module shares.

Action modules import these (and the slot names below) from here, never from one another, so
that each action module can change without breaking the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker

# Slots more than one action module reads or writes (domain.yml `slots:`).
SITUATION_SLOT = "situation"
REQUESTED_SLOT = "requested_slot"
ADVISED_SLOT = "advised_answers"  # the full answers already sent ("situation:slot=answer,…")
MISSES_SLOT = "case_form_misses"
CASE_NUMBER_SLOT = "case_number"
VERIFIED_NUMBER_SLOT = "case_verified_number"
# The scam situation's question "already gave a code, card number or money?".
VICTIM_QUESTION_SLOT = "secret_already_given"
# Optional case details, in the order the case summary lists them (data/case_labels.yml).
EXTRA_SLOTS = ("device_sn", "tracking_number", "brand", "amount")

Event = dict[str, Any]


def latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


# A message the classifier confidently reads as one of these asks for something else, even
# when it begins with 是 / 有 / 没 ("是我儿子帮我买的吧 怎么开通"): it is not a yes/no reply.
OTHER_REQUEST_INTENTS = frozenset(
    {
        "ask_fees",
        "ask_apply",
        "ask_activation",
        "bot_challenge",
        "request_human",
        "open_case",
        "check_case_status",
        "cancel",
    }
)
OTHER_REQUEST_MIN_CONFIDENCE = 0.5


def asks_for_something_else(tracker: Tracker) -> bool:
    """The latest message is confidently a question or request of another kind."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return (
        intent.get("name") in OTHER_REQUEST_INTENTS
        and (intent.get("confidence") or 0.0) >= OTHER_REQUEST_MIN_CONFIDENCE
    )


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_entities(tracker: Tracker) -> list[dict[str, Any]]:
    return list((tracker.latest_message or {}).get("entities") or [])


def scam_guard_fired(tracker: Tracker) -> bool:
    """SafetyGuard's keyword match on the latest message (not the classifier's guess)."""
    return bool(((tracker.latest_message or {}).get("safety_guard") or {}).get("triggered"))


def as_bool(value: Any) -> bool | None:
    """A bool slot's value as True/False/None (tolerates "true"/"false" strings)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return None


def events_of(tracker: Tracker, kind: str) -> list[Event]:
    """The conversation's events of one kind ("user", "bot", "action", …), oldest first."""
    return [event for event in tracker.events if event.get("event") == kind]


def last_event(
    tracker: Tracker, kind: str, matching: Callable[[Event], bool] | None = None
) -> Event | None:
    """The newest event of a kind (that `matching` accepts, if given)."""
    for event in reversed(tracker.events):
        if event.get("event") == kind and (matching is None or matching(event)):
            return event
    return None


def events_since_user_spoke(tracker: Tracker) -> list[Event]:
    """What happened after the latest user message, oldest first."""
    since: list[Event] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        since.append(event)
    return since[::-1]


def previous_turn(tracker: Tracker) -> list[Event]:
    """The events between the previous user message and the latest one, oldest first."""
    turn: list[Event] = []
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif users_seen == 1:
            turn.append(event)
    return turn[::-1]


def channel_of(tracker: Tracker) -> str:
    """The channel the latest message came in on: kept on cases as information only, never
    used to decide who may see a case (a REST caller could claim any channel)."""
    return tracker.get_latest_input_channel() or "unknown"


def client_address_of(tracker: Tracker) -> str | None:
    """The client address the channel recorded for the latest user message, if any.

    Set by the channels from the request (never from the client's body); optional, used only
    for per-client limits.
    """
    user = last_event(tracker, "user")
    if user is None:
        return None
    address = (user.get("metadata") or {}).get("client_address")
    return str(address)[:256] if isinstance(address, str) and address else None

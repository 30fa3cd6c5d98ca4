"""The one tracker builder of the unit tests: a conversation whose latest message is given."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def parse_data(
    text: str,
    intent: str,
    *,
    confidence: float = 1.0,
    entities: list[dict[str, Any]] | None = None,
    **extras: Any,
) -> dict[str, Any]:
    """What the NLU made of a message; `extras`: safety_guard, sensitive_data, intent_ranking …"""
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": list(entities or []),
        **extras,
    }


def user_event(text: str, message: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A user message event (fields: input_channel, timestamp, metadata …)."""
    event: dict[str, Any] = {"event": "user", "text": text, **fields}
    if message is not None:
        event["parse_data"] = message
    return event


def build_tracker(
    text: str = "",
    intent: str = "inform",
    *,
    slots: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    sender: str = "tester",
    active_loop: str | None = None,
    paused: bool = False,
) -> Tracker:
    """A tracker whose latest message is `message` (default: `text` classified as `intent`).

    `events` is the whole conversation; by default the latest message is its only event.
    """
    latest = message if message is not None else parse_data(text, intent)
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": dict(slots or {}),
            "latest_message": latest,
            "events": [user_event(text, latest)] if events is None else events,
            "active_loop": {"name": active_loop} if active_loop else {},
            "paused": paused,
            "followup_action": None,
            "latest_event_time": None,
            "latest_action_name": "action_listen",
        }
    )

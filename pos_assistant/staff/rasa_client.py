"""The calls staff tools make to the Rasa server: resume a conversation, send an agent's message,
read a transcript. All go through Rasa's HTTP API with its token (RASA_API_TOKEN).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

# `resume` alone leaves the handoff action as the last action before the next message, a state no
# rule knows; `action_listen` puts the conversation back where the assistant waits for the user.
RESUME_EVENTS = [
    {"event": "resume"},
    {"event": "slot", "name": "human_offered", "value": False},
    {"event": "action", "name": "action_listen"},
]


class RasaUnreachable(Exception):
    """Rasa did not answer, or refused the request (wrong token, unknown conversation…)."""


def _tracker_url(rasa_url: str, conversation_id: str) -> str:
    # Rasa's routes do not percent-decode the id: keep the channel prefix's colon as it is.
    return f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe=':')}/tracker"


def _request(
    method: str, url: str, rasa_url: str, what: str, timeout_seconds: float, **kwargs: Any
) -> httpx.Response:
    try:
        response = httpx.request(method, url, timeout=timeout_seconds, **kwargs)
    except httpx.HTTPError as error:
        raise RasaUnreachable(f"Rasa at {rasa_url} is unreachable: {error}") from error
    if response.status_code != 200:
        raise RasaUnreachable(f"Rasa at {rasa_url} refused {what}: HTTP {response.status_code}")
    return response


def resume_conversation(
    rasa_url: str, api_token: str, conversation_id: str, *, timeout_seconds: float = 10
) -> None:
    """Appends the resume events so the assistant answers this conversation again."""
    _request(
        "POST",
        f"{_tracker_url(rasa_url, conversation_id)}/events",
        rasa_url,
        "the resume event",
        timeout_seconds,
        params={"token": api_token},
        json=RESUME_EVENTS,
    )


def send_agent_message(
    rasa_url: str,
    api_token: str,
    conversation_id: str,
    text: str,
    agent: str,
    *,
    timeout_seconds: float = 10,
) -> None:
    """Adds an agent's message to the conversation and sends it through the user's channel.

    With `execute_side_effects`, Rasa delivers the bot event through the `output_channel`; `latest`
    is the channel the user last wrote from (the widget's socket.io session, or WeChat's
    customer-service message API). Over REST there is nothing to push to: the message is kept in
    the conversation only.
    """
    _request(
        "POST",
        f"{_tracker_url(rasa_url, conversation_id)}/events",
        rasa_url,
        "the agent's message",
        timeout_seconds,
        params={"token": api_token, "output_channel": "latest", "execute_side_effects": "true"},
        json=[{"event": "bot", "text": text, "metadata": {"agent": agent}}],
    )


def fetch_tracker(
    rasa_url: str, api_token: str, conversation_id: str, *, timeout_seconds: float = 10
) -> dict[str, Any]:
    """The conversation's tracker (texts are stored masked), all sessions."""
    response = _request(
        "GET",
        _tracker_url(rasa_url, conversation_id),
        rasa_url,
        "the transcript request",
        timeout_seconds,
        params={"token": api_token, "include_events": "ALL"},
    )
    return dict(response.json())

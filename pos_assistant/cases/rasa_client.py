"""The one call staff tools make to the Rasa server: resume a paused conversation."""

from __future__ import annotations

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


def resume_conversation(
    rasa_url: str, api_token: str, conversation_id: str, *, timeout_seconds: float = 10
) -> None:
    """Appends the resume events so the assistant answers this conversation again."""
    url = f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='')}/tracker/events"
    try:
        response = httpx.post(
            url,
            params={"token": api_token},
            json=RESUME_EVENTS,
            timeout=timeout_seconds,
        )
    except httpx.HTTPError as error:
        raise RasaUnreachable(f"Rasa at {rasa_url} is unreachable: {error}") from error
    if response.status_code != 200:
        raise RasaUnreachable(
            f"Rasa at {rasa_url} refused the resume event: HTTP {response.status_code}"
        )

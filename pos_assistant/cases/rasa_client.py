"""The one call staff tools make to the Rasa server: resume a paused conversation."""

from __future__ import annotations

from urllib.parse import quote

import httpx


class RasaUnreachable(Exception):
    """Rasa did not answer, or refused the request (wrong token, unknown conversation…)."""


def resume_conversation(
    rasa_url: str, api_token: str, conversation_id: str, *, timeout_seconds: float = 10
) -> None:
    """Appends a `resume` event so the assistant answers this conversation again."""
    url = f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='')}/tracker/events"
    try:
        response = httpx.post(
            url,
            params={"token": api_token},
            json={"event": "resume"},
            timeout=timeout_seconds,
        )
    except httpx.HTTPError as error:
        raise RasaUnreachable(f"Rasa at {rasa_url} is unreachable: {error}") from error
    if response.status_code != 200:
        raise RasaUnreachable(
            f"Rasa at {rasa_url} refused the resume event: HTTP {response.status_code}"
        )

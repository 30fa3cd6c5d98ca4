"""An agent's own question to the assistant: how it reads the text, what it would answer, and the
steps that apply. The answer comes from a throwaway REST conversation per question (`console-`
senders), so the customer's conversation is never touched."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from pos_assistant.console.views import reading_of
from pos_assistant.privacy import mask_text
from pos_assistant.settings import Settings
from pos_assistant.staff.rasa_client import RasaUnreachable
from pos_assistant.staff.transcript import recommended_steps, situation_discussed

MAX_QUESTION_CHARS = 500
_TIMEOUT_SECONDS = 30


def _post(url: str, **kwargs: Any) -> Any:
    try:
        response = httpx.post(url, timeout=_TIMEOUT_SECONDS, **kwargs)
    except httpx.HTTPError as failure:
        raise RasaUnreachable(f"Rasa is unreachable: {failure}") from failure
    if response.status_code != 200:
        raise RasaUnreachable(f"Rasa refused the question: HTTP {response.status_code}")
    return response.json()


def ask_assistant(settings: Settings, text: str) -> dict[str, Any]:
    base = settings.rasa_url.rstrip("/")
    parse = _post(
        f"{base}/model/parse", params={"token": settings.rasa_api_token}, json={"text": text}
    )
    headers = (
        {"Authorization": f"Bearer {settings.rest_api_token}"} if settings.rest_api_token else {}
    )
    replies = _post(
        f"{base}/webhooks/rest/webhook",
        json={"sender": f"console-assist-{secrets.token_hex(8)}", "message": text},
        headers=headers,
    )
    reading = reading_of(parse)
    situation = situation_discussed({}, [{"event": "user", "parse_data": parse}])
    title, steps = recommended_steps(situation, {})
    return {
        "reading": reading,
        "answer": [
            {
                "text": mask_text(str(reply.get("text") or "")),
                "buttons": [str(b.get("title")) for b in reply.get("buttons") or []],
            }
            for reply in replies
            if isinstance(reply, dict)
        ],
        "situation": {"code": situation, "title": title, "steps": steps},
    }

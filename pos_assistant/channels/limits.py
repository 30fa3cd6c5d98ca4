"""Bounds every channel puts on one message before anything reaches the NLU.

A message longer than MAX_MESSAGE_CHARS characters is not processed at all (not even a truncated
part of it): the sender gets a short reply asking to send it shorter, in parts. Request bodies are
capped at MAX_REQUEST_BYTES by the Rasa server itself, so a huge body is refused before it is read.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from sanic import Blueprint, Sanic

from pos_assistant.settings import PROJECT_ROOT

TEXTS_PATH = PROJECT_ROOT / "data" / "channels" / "limits.yml"


def is_too_long(text: str, max_chars: int) -> bool:
    """Whether a message exceeds the limit (in characters, as the user typed them)."""
    return len(text) > max_chars


@lru_cache(maxsize=4)
def too_long_reply(max_chars: int, path: Path = TEXTS_PATH) -> str:
    """The polite "please send it shorter" reply, from data/channels/limits.yml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    template = data.get("message_too_long")
    if not template:
        raise ValueError(f"{path} lacks the text message_too_long")
    return str(template).format(limit=max_chars)


def cap_request_size(blueprint: Blueprint, max_bytes: int) -> None:
    """Lowers the whole Rasa server's body limit (Sanic's default is 100 MB) to `max_bytes`.

    Sanic refuses a larger body with 413 from its Content-Length (or while reading a chunked one),
    before any handler runs. Rasa's own HTTP API shares the server and the limit; this project
    never uploads models through it.
    """

    async def cap(app: Sanic, _loop: object) -> None:
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, max_bytes)
        app.config.WEBSOCKET_MAX_SIZE = min(app.config.WEBSOCKET_MAX_SIZE, max_bytes)

    blueprint.listener("before_server_start")(cap)

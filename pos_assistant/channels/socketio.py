"""Rasa's socketio channel with working session persistence, for the website widget.

Rasa 3.6.21 calls `sio.enter_room(...)` without `await`, but python-socketio 5.x made it a
coroutine on AsyncServer (RasaHQ/rasa#13027, unfixed in 3.6): the socket never joins its session's
room, so with `session_persistence: true` every bot reply is emitted to an empty room and lost.
This subclass replaces the two affected handlers; everything else (output channel, path, JWT on
connect, event names from credentials.yml) stays Rasa's.

It also binds each socket to the session it was confirmed into: a client can no longer send
`user_uttered` under an arbitrary `session_id` (for instance another user's, or a WeChat openid),
and a requested session id that is not one this channel hands out is replaced by a fresh one.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex, as Rasa and this channel create them
MAX_MESSAGE_CHARS = 2000


class SocketIOInput(RasaSocketIOInput):
    """Registered in credentials.yml as `pos_assistant.channels.socketio.SocketIOInput`."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        sessions: dict[str, str] = {}  # socket id -> confirmed session id (this process only)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = (
                requested
                if isinstance(requested, str) and _SESSION_ID.fullmatch(requested)
                else uuid.uuid4().hex
            )
            previous = sessions.get(sid)
            if self.session_persistence:
                if previous and previous != session_id:
                    await sio.leave_room(sid, previous, namespace=self.namespace)
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            sessions[sid] = session_id
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            sessions.pop(sid, None)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                return
            if self.session_persistence:
                sender_id = sessions.get(sid)
                if sender_id is None:
                    logger.warning("socket.io message before session_request; ignored")
                    return
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except json.JSONDecodeError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            await on_new_message(
                UserMessage(
                    data["message"][:MAX_MESSAGE_CHARS],
                    SocketIOOutput(sio, self.bot_message_evt),
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        return webhook

"""Rasa's socketio channel with working session persistence, for the website widget.

Rasa 3.6.21 calls `sio.enter_room(...)` without `await`, but python-socketio 5.x made it a
coroutine on AsyncServer (RasaHQ/rasa#13027, unfixed in 3.6): the socket never joins its session's
room, so with `session_persistence: true` every bot reply is emitted to an empty room and lost.
This subclass replaces the two affected handlers; everything else (output channel, path, JWT on
connect, event names from credentials.yml) stays Rasa's.

It also binds each socket to the session it was confirmed into: a client can no longer send
`user_uttered` under an arbitrary `session_id` (for instance another user's, or a WeChat openid),
and a requested session id that is not one this channel hands out is replaced by a fresh one.
The conversation is `web:<session id>` (pos_assistant.identity); replies, including an agent's
after a handoff, go to the session's room. A message longer than MAX_MESSAGE_CHARS is answered
with the "please send it shorter" text and not processed; metadata `client_address` is set here.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

from pos_assistant.action_client import close_sessions_at_stop
from pos_assistant.channels.addresses import (
    client_address,
    parse_trusted_proxies,
    with_client_address,
)
from pos_assistant.channels.heap import freeze_heap_after_start
from pos_assistant.channels.limits import cap_request_size, is_too_long, too_long_reply
from pos_assistant.identity import conversation_id, raw_sender
from pos_assistant.settings import get_settings

logger = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex, as Rasa and this channel create them


class SessionOutput(SocketIOOutput):
    """Sends to the room of the socket.io session behind a `web:` conversation id."""

    async def _send_message(self, socket_id: str, response: Any) -> None:
        room = raw_sender("socketio", socket_id)
        if room is None:  # not a widget conversation: nothing of ours to deliver to
            logger.warning("socket.io reply for a conversation of another channel; not sent")
            return
        await super()._send_message(room, response)


class SocketIOInput(RasaSocketIOInput):
    """Registered in credentials.yml as `pos_assistant.channels.socketio.SocketIOInput`."""

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return SessionOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        max_chars = settings.max_message_chars
        trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)
        webhook = super().blueprint(on_new_message)
        cap_request_size(webhook, settings.max_request_bytes)
        freeze_heap_after_start(webhook)
        close_sessions_at_stop(webhook)
        sio = self.sio
        sio.eio.max_http_buffer_size = settings.max_request_bytes
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
            output = SessionOutput(sio, self.bot_message_evt)
            conversation = conversation_id(self.name(), sender_id)
            if is_too_long(data["message"], max_chars):
                # Nothing of it is processed: not the NLU, not the tracker.
                await output.send_text_message(conversation, too_long_reply(max_chars))
                return
            environ = sio.get_environ(sid, namespace=self.namespace) or {}
            request = environ.get("sanic.request")
            address = client_address(
                request.ip if request is not None else "",
                environ.get("HTTP_X_FORWARDED_FOR"),
                trusted_proxies,
            )
            await on_new_message(
                UserMessage(
                    data["message"],
                    output,
                    conversation,
                    input_channel=self.name(),
                    metadata=with_client_address(metadata, address),
                )
            )

        return webhook

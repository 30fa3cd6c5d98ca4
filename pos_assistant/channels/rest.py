"""The project's REST channel (`/webhooks/rest/webhook`), replacing Rasa's built-in `rest:`.

Registered in credentials.yml as `pos_assistant.channels.rest.RestInput`. Compared with Rasa's:

- the conversation is always `rest:<sender>` (pos_assistant.identity) and the input channel is
  always "rest": the body's `input_channel` is ignored, so a REST caller can never write into a
  WeChat or widget conversation, nor make one of its own look like one;
- metadata `client_address` is the request's address (never the client's own value);
- a message longer than MAX_MESSAGE_CHARS gets the "please send it shorter" reply and is not
  processed; bodies above MAX_REQUEST_BYTES are refused by the server before they are read;
- in production (APP_ENV=production) every message needs `Authorization: Bearer <REST_API_TOKEN>`,
  and the server does not start without REST_API_TOKEN.

Replies keep Rasa's JSON shape; `recipient_id` is the caller's own sender.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from pos_assistant.action_client import close_sessions_at_stop
from pos_assistant.channels.addresses import (
    client_address,
    parse_trusted_proxies,
    with_client_address,
)
from pos_assistant.channels.heap import freeze_heap_after_start
from pos_assistant.channels.limits import cap_request_size, is_too_long, too_long_reply
from pos_assistant.identity import conversation_id, raw_sender
from pos_assistant.settings import Settings, get_settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128  # Rasa's tracker stores sender ids in a 255-character column


class _SenderFacingMixin:
    """Output that shows the caller its own sender as `recipient_id`, not the namespaced id."""

    def _message(self, recipient_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        own = raw_sender("rest", recipient_id) or recipient_id
        return super()._message(own, *args, **kwargs)  # type: ignore[misc]


class RestCollectingOutput(_SenderFacingMixin, CollectingOutputChannel):
    pass


class RestQueueOutput(_SenderFacingMixin, QueueOutputChannel):
    pass


class RestInput(RasaRestInput):
    """REST channel with namespaced senders, a length limit and, in production, a bearer token."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        # Settings come from the environment, never from credentials.yml.
        return cls(get_settings())

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        if settings.is_production and not settings.rest_api_token:
            raise ValueError(
                "REST_API_TOKEN must be set in production (APP_ENV=production): the REST channel "
                "would otherwise be open to anyone who reaches the Rasa port"
            )
        self.api_token = settings.rest_api_token if settings.is_production else ""
        self.max_message_chars = settings.max_message_chars
        self.max_request_bytes = settings.max_request_bytes
        self.trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)

    # --- what Rasa's RestInput reads from the request, made trustworthy

    async def _extract_sender(self, req: Request) -> str:
        sender = req.json.get("sender")
        raw = uuid.uuid4().hex if sender is None else str(sender)
        return conversation_id(self.name(), raw)

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any]:
        address = client_address(
            request.ip, request.headers.get("x-forwarded-for"), self.trusted_proxies
        )
        return with_client_address(request.json.get("metadata"), address)

    # --- the webhook

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("custom_webhook_pos_rest", __name__)
        cap_request_size(webhook, self.max_request_bytes)
        freeze_heap_after_start(webhook)
        close_sessions_at_stop(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
            sender_id = await self._extract_sender(request)
            text = request.json["message"]
            if is_too_long(text, self.max_message_chars):
                # Nothing of it is processed: not the NLU, not the tracker.
                reply = too_long_reply(self.max_message_chars)
                own = raw_sender(self.name(), sender_id)
                return response.json([{"recipient_id": own, "text": reply}])
            metadata = self.get_metadata(request)
            if request.args.get("stream", "").lower() == "true":
                return response.stream(
                    self._stream(on_new_message, text, sender_id, metadata),
                    content_type="text/event-stream",
                )
            collector = RestCollectingOutput()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender_id,
                        input_channel=self.name(),
                        metadata=metadata,
                    )
                )
            except Exception:
                logger.exception("The assistant failed on a REST message")
            return response.json(collector.messages)

        return webhook

    def _refusal(self, request: Request) -> HTTPResponse | None:
        """An error answer for a request that must not reach the assistant, else None."""
        if self.api_token and not _bearer_matches(request, self.api_token):
            return response.json(
                {"error": "a valid 'Authorization: Bearer <token>' header is required"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            body = request.json
        except Exception:  # Sanic raises InvalidUsage on a body that is not JSON
            body = None
        if not isinstance(body, dict):
            return response.json({"error": "the body must be a JSON object"}, status=400)
        if not isinstance(body.get("message"), str):
            return response.json({"error": "'message' must be a string"}, status=400)
        sender = body.get("sender")
        if sender is not None and (
            not isinstance(sender, (str, int)) or not 0 < len(str(sender)) <= MAX_SENDER_CHARS
        ):
            return response.json(
                {"error": f"'sender' must be a string of 1 to {MAX_SENDER_CHARS} characters"},
                status=400,
            )
        return None

    def _stream(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[None]],
        text: str,
        sender_id: str,
        metadata: dict[str, Any],
    ) -> Callable[[Any], Awaitable[None]]:
        async def stream(resp: Any) -> None:
            output = RestQueueOutput()
            done = object()

            async def run() -> None:
                try:
                    await on_new_message(
                        UserMessage(
                            text, output, sender_id, input_channel=self.name(), metadata=metadata
                        )
                    )
                finally:
                    await output.messages.put(done)

            task = asyncio.ensure_future(run())
            while (item := await output.messages.get()) is not done:
                await resp.write(json.dumps(item) + "\n")
            await task

        return stream


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))

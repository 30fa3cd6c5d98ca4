"""Rasa input channel for a WeChat Official Account (公众号), at /webhooks/wechat/webhook.

Register in credentials.yml as `pos_assistant.channels.wechat.WeChatInput:`; settings come from
pos_assistant.settings (WECHAT_* variables). WeChat waits 5 s for an answer and then retries, so a
turn that is not done within WECHAT_REPLY_DEADLINE_SECONDS is answered with `success` and its reply
sent later through the customer-service message API.

The conversation of a WeChat user is `wx:<openid>` (pos_assistant.identity); replies outside the
user's turn go to the openid behind it. A text longer than MAX_MESSAGE_CHARS is answered with the
"please send it shorter" text and not processed. Messages carry no `client_address`: requests come
from WeChat's servers, and the signed openid is the identity.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.messages import BaseMessage

from pos_assistant.action_client import close_sessions_at_stop
from pos_assistant.attachments.provider import get_photo_inbox
from pos_assistant.channels.heap import freeze_heap_after_start
from pos_assistant.channels.limits import is_too_long, too_long_reply
from pos_assistant.channels.wechat_api import ConfigurableWeChatClient, CustomerServiceSender
from pos_assistant.channels.wechat_memory import OptionMemory, SignedQueryMemory, Turn, TurnCache
from pos_assistant.channels.wechat_outbox import LateReplies
from pos_assistant.channels.wechat_photos import receive_photo
from pos_assistant.channels.wechat_replies import (
    RenderedReply,
    chosen_option,
    passive_text_reply,
    render_replies,
)
from pos_assistant.channels.wechat_security import (
    MAX_BODY_BYTES,
    SIGNED_QUERY_WINDOW_SECONDS,
    RejectedRequest,
    check_safe_xml,
    check_signature,
    is_signature_shaped,
    parse_wechat_message,
    parse_xml_fields,
)
from pos_assistant.channels.wechat_texts import WeChatTexts, default_texts
from pos_assistant.identity import conversation_id, raw_sender
from pos_assistant.settings import Settings, get_settings

logger = logging.getLogger(__name__)

GREET_INTENT = "/greet"
ACKNOWLEDGE = "success"  # tells WeChat "received, no passive reply" and stops its retries
# The token `make run` uses when WECHAT_TOKEN is empty (documented in the README): public, so
# production refuses it.
DEVELOPMENT_TOKEN = "pos-assistant-dev-token"


@dataclass(frozen=True)
class WeChatConfig:
    token: str
    appid: str
    appsecret: str
    encoding_aes_key: str
    api_base_url: str
    reply_deadline_seconds: float
    max_message_chars: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> WeChatConfig:
        config = cls(
            token=settings.wechat_token,
            appid=settings.wechat_appid,
            appsecret=settings.wechat_appsecret,
            encoding_aes_key=settings.wechat_encoding_aes_key,
            api_base_url=settings.wechat_api_base_url,
            reply_deadline_seconds=settings.wechat_reply_deadline_seconds,
            max_message_chars=settings.max_message_chars,
        )
        config.check(production=settings.is_production)
        return config

    def check(self, production: bool) -> None:
        """Fails fast on settings that would leave the webhook open or unable to decrypt."""
        if not self.token:
            if production:
                raise ValueError("WECHAT_TOKEN must be set in production (APP_ENV=production)")
            logger.warning("WECHAT_TOKEN is not set: the WeChat webhook refuses every request")
        elif production and self.token == DEVELOPMENT_TOKEN:
            raise ValueError(
                "WECHAT_TOKEN is the public development token; production needs its own"
            )
        if self.encoding_aes_key and (len(self.encoding_aes_key) != 43 or not self.appid):
            raise ValueError("WECHAT_ENCODING_AES_KEY needs 43 characters and WECHAT_APPID")


class CustomerServiceOutput(OutputChannel):
    """Messages sent outside the user's own turn (an agent's reply after a handoff).

    Rasa uses it for events appended through its HTTP API with `output_channel=latest`. WeChat
    accepts these customer-service messages within 48 hours of the user's last message.
    """

    @classmethod
    def name(cls) -> str:
        return "wechat"

    def __init__(self, late_replies: LateReplies) -> None:
        self.late_replies = late_replies

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        openid = raw_sender("wechat", recipient_id)
        if openid is None:  # not a WeChat conversation: never message an openid it merely names
            logger.warning("WeChat message for a conversation of another channel; not sent")
            return
        # Through the outbox: retried, and marked failed for staff when WeChat refuses it.
        await self.late_replies.send(openid, [text], f"agent:{uuid.uuid4().hex}")


class WeChatInput(InputChannel):
    """WeChat Official Account webhook: verification, plain and safe mode, retries, late replies."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # Secrets come from the environment through settings, never from credentials.yml.
        settings = get_settings()
        return cls(WeChatConfig.from_settings(settings), settings=settings)

    def __init__(
        self,
        config: WeChatConfig,
        texts: WeChatTexts | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.config = config
        self.texts = texts or default_texts()
        self.crypto = (
            WeChatCrypto(config.token, config.encoding_aes_key, config.appid)
            if config.encoding_aes_key
            else None
        )
        client = (
            ConfigurableWeChatClient(config.appid, config.appsecret, config.api_base_url)
            if config.appid and config.appsecret
            else None
        )
        self.customer_service = CustomerServiceSender(client)
        # Replies sent after the turn: through the database outbox when settings are given.
        self.late_replies = (
            LateReplies.from_settings(self.customer_service, settings)
            if settings is not None
            else LateReplies(self.customer_service, None)
        )
        self.api_client = client
        self.media_lock = asyncio.Lock()
        self.turns = TurnCache()
        self.options = OptionMemory()
        self.signed_queries = SignedQueryMemory(SIGNED_QUERY_WINDOW_SECONDS)
        self._background: set[asyncio.Task] = set()
        self.rasa_app: Any = None

    def get_output_channel(self) -> OutputChannel | None:
        return CustomerServiceOutput(self.late_replies)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("wechat_webhook", __name__)
        freeze_heap_after_start(webhook)
        close_sessions_at_stop(webhook)

        @webhook.listener("after_server_start")
        async def start_outbox(app: Any, *_: Any) -> None:
            self.rasa_app = app  # its agent's tracker store: where a photo's sender is in advice
            # Also sends what a previous server left pending.
            if self.late_replies.worker is not None:
                self.late_replies.worker.start()

        @webhook.listener("before_server_stop")
        async def stop_outbox(*_: Any) -> None:
            if self.late_replies.worker is not None:
                await self.late_replies.worker.stop()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            query = _query(request)
            echostr = request.args.get("echostr", "")
            try:
                check_signature(self.config.token, query)
                # A verification query must not double as a pass for a message.
                self._claim(query, "verify:" + echostr)
            except RejectedRequest as rejected:
                return _refuse(rejected)
            return response.text(echostr)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            received_at = time.monotonic()
            try:
                query = _query(request)
                check_signature(self.config.token, query)
                body = await _read_limited(request)
                message, plain_xml = self._decode(body, query)
                self._claim(query, "message:" + hashlib.sha256(plain_xml.encode()).hexdigest())
            except RejectedRequest as rejected:
                return _refuse(rejected)
            reply_xml = await self._answer(message, on_new_message, received_at)
            if reply_xml is None:
                return response.text(ACKNOWLEDGE)
            if self.crypto is not None:
                reply_xml = self.crypto.encrypt_message(
                    reply_xml, query["nonce"], query["timestamp"]
                )
            return response.text(reply_xml, content_type="application/xml; charset=utf-8")

        return webhook

    # --- decoding

    def _claim(self, query: dict[str, str], fingerprint: str) -> None:
        if not self.signed_queries.claim(query["timestamp"], query["nonce"], fingerprint):
            raise RejectedRequest(403, "signed query already used for another message")

    def _decode(self, body: bytes, query: dict[str, str]) -> tuple[BaseMessage, str]:
        """The message and its plain XML (decrypted in safe mode)."""
        xml_text = check_safe_xml(body)
        if self.crypto is None:
            return parse_wechat_message(xml_text), xml_text
        # Safe mode: only encrypted messages, whose msg_signature covers the body.
        if query.get("encrypt_type") != "aes" or not query.get("msg_signature"):
            raise RejectedRequest(403, "safe mode expects encrypt_type=aes and msg_signature")
        if not is_signature_shaped(query["msg_signature"]):
            raise RejectedRequest(403, "malformed msg_signature")
        envelope = parse_xml_fields(xml_text)
        if not envelope.get("Encrypt"):
            raise RejectedRequest(400, "no Encrypt element")
        try:
            plain = self.crypto.decrypt_message(
                envelope, query["msg_signature"], query["timestamp"], query["nonce"]
            )
        except InvalidSignatureException:
            raise RejectedRequest(403, "wrong msg_signature") from None
        except Exception:  # bad base64, padding, AppID: not a message from our account
            raise RejectedRequest(400, "cannot decrypt") from None
        plain_xml = check_safe_xml(plain.encode("utf-8"))
        return parse_wechat_message(plain_xml), plain_xml

    # --- answering

    async def _answer(
        self,
        message: BaseMessage,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        received_at: float,
    ) -> str | None:
        """The passive reply XML, or None to answer `success`."""
        openid, account = message.source, message.target
        if message.type == "event":
            if getattr(message, "event", "") != "subscribe":
                return None
            text, key = GREET_INTENT, f"event:{openid}:{message.time}"
        elif message.type == "text":
            content = (message.content or "").strip()
            if is_too_long(content, self.config.max_message_chars):
                # Nothing of it is processed: not the NLU, not the tracker.
                reply = too_long_reply(self.config.max_message_chars)
                return passive_text_reply(openid, account, reply)
            option = chosen_option(content, self.options.offered(openid))
            text = option.payload if option else content
            key = f"msg:{openid}:{message.id}" if message.id else f"text:{openid}:{message.time}"
        elif message.type == "image":
            text = f"image:{getattr(message, 'media_id', '') or ''}"
            key = f"msg:{openid}:{message.id}" if message.id else f"image:{openid}:{message.time}"
        else:
            return passive_text_reply(openid, account, self.texts.describe_in_text)
        if not text:
            return None

        # Retries of one MsgId share one turn: one run of the assistant, one photo download.
        start = (
            (lambda: self._receive_photo(openid, text.removeprefix("image:")))
            if message.type == "image"
            else (lambda: self._run_assistant(text, openid, on_new_message))
        )
        turn, _ = self.turns.get_or_start(key, start)
        deadline = received_at + self.config.reply_deadline_seconds
        try:
            rendered: RenderedReply = await asyncio.wait_for(
                asyncio.shield(turn.task), timeout=max(deadline - time.monotonic(), 0)
            )
        except asyncio.TimeoutError:
            self._deliver_late(turn, openid, key)
            return None
        except Exception:
            logger.exception("The assistant failed on a WeChat message")
            return None
        if time.monotonic() > deadline:
            # Done, but too late for WeChat to still be waiting (the event loop may have been busy
            # with the turn itself): a passive reply now could be lost, so use the API.
            self._deliver_late(turn, openid, key)
            return None
        if turn.late_delivery_scheduled or not rendered.parts:
            return None  # already (being) sent through the API
        if len(rendered.parts) > 1 and not turn.remainder_sent:
            turn.remainder_sent = True
            self._in_background(self.late_replies.send(openid, rendered.parts[1:], key + ":rest"))
        return passive_text_reply(openid, account, rendered.parts[0])

    async def _run_assistant(
        self, text: str, openid: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> RenderedReply:
        collector = CollectingOutputChannel()
        conversation = conversation_id(self.name(), openid)
        await on_new_message(UserMessage(text, collector, conversation, input_channel=self.name()))
        rendered = render_replies(collector.messages, self.texts)
        self.options.remember(openid, rendered.options)
        return rendered

    async def _receive_photo(self, openid: str, media_id: str) -> RenderedReply:
        inbox = get_photo_inbox()
        agent = getattr(getattr(self.rasa_app, "ctx", None), "agent", None)
        text = await receive_photo(self.api_client, inbox, openid, media_id, self.media_lock, agent)
        return RenderedReply(parts=[text])

    def _deliver_late(self, turn: Turn, openid: str, key: str) -> None:
        if turn.late_delivery_scheduled:
            return
        turn.late_delivery_scheduled = True

        async def deliver() -> None:
            try:
                rendered = await turn.task
            except Exception:
                logger.exception("The assistant failed on a WeChat message")
                return
            await self.late_replies.send(openid, rendered.parts, key + ":late")

        self._in_background(deliver())

    def _in_background(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)  # keep a reference until done
        task.add_done_callback(self._background.discard)


def _query(request: Request) -> dict[str, str]:
    return {key: request.args.get(key, "") for key in request.args}


async def _read_limited(request: Request) -> bytes:
    """The body, refused with 413 as soon as it passes MAX_BODY_BYTES (never read in full)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RejectedRequest(413, "body too large")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RejectedRequest(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(rejected: RejectedRequest) -> HTTPResponse:
    logger.info("WeChat webhook refused a request: %s", rejected.reason)
    return response.text(rejected.reason, status=rejected.status)

"""Customer-service messages (`/cgi-bin/message/custom/send`) for replies that miss the deadline.

wechatpy's WeChatClient caches the access_token in its session storage and fetches a new one a
minute before it expires (and again when WeChat reports it invalid). Each fetch invalidates the
previous token, so with several servers pass a shared `RedisStorage` as `session`.

The app secret and the access token travel in URL query strings, which requests and urllib3 put
into their error messages and debug logs: every such text is redacted before it is logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 10.0
# `secret=…` and `access_token=…` in URLs (also URL-encoded in messages) and JSON-ish text.
_SECRET_VALUE = re.compile(
    r"""((?:app)?secret|access_token)(["']?\s*[=:]\s*["']?|%3D)[^&\s"',;)]+""", re.IGNORECASE
)
REDACTED = "***"
# Customer-service messages WeChat will never accept as they are: outside the 48 h after the
# user's last message (45015), too many without a user reply (45047), unsubscribed user (43004),
# unknown openid (40003), content too long (45002) or malformed (47001), API not granted (48001).
REFUSED_ERRCODES = frozenset({45015, 45047, 43004, 40003, 45002, 47001, 48001})


class DeliveryFailed(Exception):
    """A message did not go out; trying again later may work."""


class DeliveryRefused(DeliveryFailed):
    """WeChat refused the message for good (see REFUSED_ERRCODES)."""


def redact_secrets(text: str) -> str:
    """The text with the values of secret-bearing parameters replaced by ***."""
    return _SECRET_VALUE.sub(lambda match: match.group(1) + match.group(2) + REDACTED, text)


class RedactSecretsFilter(logging.Filter):
    """Redacts secrets in a log record's message and traceback before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact_secrets(logging.Formatter().formatException(record.exc_info))
        return True


# Loggers that write request URLs: urllib3 (debug: every request line), requests and wechatpy.
for _name in (__name__, "urllib3.connectionpool", "requests", "wechatpy.client.base"):
    logging.getLogger(_name).addFilter(RedactSecretsFilter())


class _TimeoutSession(requests.Session):
    """wechatpy fetches tokens without a timeout; this gives every request one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._default_timeout = timeout

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._default_timeout
        return super().request(method, url, **kwargs)


class ConfigurableWeChatClient(WeChatClient):
    """WeChatClient whose API base URL can point at a local stand-in."""

    def __init__(
        self,
        appid: str,
        secret: str,
        api_base_url: str,
        session: SessionStorage | None = None,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(appid, secret, session=session, timeout=timeout)
        root = api_base_url.rstrip("/") + "/"
        self.API_BASE_URL = root + "cgi-bin/"
        self._token_url = root + "cgi-bin/token"
        self._http = _TimeoutSession(timeout)

    def fetch_access_token(self) -> dict:
        return self._fetch_access_token(
            url=self._token_url,
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class CustomerServiceSender:
    """Sends text to a user outside the passive reply (allowed within 48 h of their message)."""

    def __init__(self, client: WeChatClient | None) -> None:
        self._client = client
        self._lock = asyncio.Lock()  # one token fetch at a time; WeChat invalidates the old one

    @property
    def enabled(self) -> bool:
        return self._client is not None

    async def send_one(self, openid: str, text: str) -> None:
        """Sends one message; raises DeliveryRefused or DeliveryFailed (secrets redacted)."""
        if self._client is None:
            raise DeliveryFailed("WECHAT_APPID/WECHAT_APPSECRET not set")
        try:
            async with self._lock:
                await asyncio.to_thread(self._client.message.send_text, openid, text)
        except WeChatClientException as error:
            reason = f"errcode {error.errcode}: {redact_secrets(str(error.errmsg))}"
            if error.errcode in REFUSED_ERRCODES:
                raise DeliveryRefused(reason) from None
            raise DeliveryFailed(reason) from None
        except Exception as error:  # network and anything else; never a traceback with a URL
            raise DeliveryFailed(f"{type(error).__name__}: {redact_secrets(str(error))}") from None

    async def send_texts(self, openid: str, parts: list[str]) -> bool:
        """Sends the parts in order; False (and a log line) when any of them could not be sent."""
        if self._client is None:
            logger.warning("WeChat reply not delivered: WECHAT_APPID/WECHAT_APPSECRET not set")
            return False
        for part in parts:
            try:
                async with self._lock:
                    await asyncio.to_thread(self._client.message.send_text, openid, part)
            except (WeChatClientException, requests.RequestException) as error:
                logger.error(
                    "WeChat customer-service message failed: %s", redact_secrets(str(error))
                )
                return False
            except Exception as error:  # anything else must not log a traceback with a URL
                logger.error(
                    "WeChat customer-service message failed (%s): %s",
                    type(error).__name__,
                    redact_secrets(str(error)),
                )
                return False
        return True

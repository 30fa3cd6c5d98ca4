"""Checks on every request WeChat sends: signature, freshness, size and safe XML.

WeChat signs only `token, timestamp, nonce` (not the body), so a captured URL could be replayed with
another body: the freshness window bounds that, and within it the channel remembers which message
each signed query carried (wechat_memory.SignedQueryMemory), so the same query with another message
is refused while WeChat's retries of the same message stay retries. Safe mode (msg_signature over
the encrypted body) closes it as well. Malformed signatures are refused like wrong ones (403).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any

import xmltodict
from wechatpy import parse_message
from wechatpy.messages import BaseMessage

MAX_BODY_BYTES = 64 * 1024  # a text message is at most a few KB; anything bigger is not WeChat
MAX_AGE_SECONDS = 300
MAX_FUTURE_SKEW_SECONDS = 30  # tolerate small clock differences, refuse timestamps from the future
# How long a signed query is accepted: the remembered queries must outlive it.
SIGNED_QUERY_WINDOW_SECONDS = MAX_AGE_SECONDS + MAX_FUTURE_SKEW_SECONDS
_DTD_MARKERS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# What WeChat sends: a sha1 hex digest, a Unix time and a short token-like nonce (ASCII only).
_SIGNATURE = re.compile(r"[0-9a-fA-F]{40}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[0-9A-Za-z_-]{1,64}")


class RejectedRequest(Exception):
    """A request the channel refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def wechat_signature(*parts: str) -> str:
    """sha1 of the sorted, concatenated parts: WeChat's `signature` and `msg_signature`."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_signature(token: str, query: Mapping[str, str], now: float | None = None) -> None:
    """Raises RejectedRequest(403) unless the query carries a valid, fresh signature."""
    if not token:
        raise RejectedRequest(403, "no WeChat token configured")
    signature = query.get("signature", "")
    timestamp = query.get("timestamp", "")
    nonce = query.get("nonce", "")
    if not (signature and timestamp and nonce):
        raise RejectedRequest(403, "signature, timestamp or nonce missing")
    if not (
        is_signature_shaped(signature)
        and _TIMESTAMP.fullmatch(timestamp)
        and _NONCE.fullmatch(nonce)
    ):
        raise RejectedRequest(403, "malformed signature, timestamp or nonce")
    expected = wechat_signature(token, timestamp, nonce)
    if not hmac.compare_digest(expected, signature.lower()):
        raise RejectedRequest(403, "wrong signature")
    check_fresh(timestamp, now)


def is_signature_shaped(value: str) -> bool:
    """40 ASCII hex digits: anything else is refused before any comparison (no 500 on `é`)."""
    return bool(_SIGNATURE.fullmatch(value))


def check_fresh(timestamp: str, now: float | None = None) -> None:
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise RejectedRequest(403, "timestamp is not a number") from None
    current = time.time() if now is None else now
    if current - sent_at > MAX_AGE_SECONDS or sent_at - current > MAX_FUTURE_SKEW_SECONDS:
        raise RejectedRequest(403, "stale timestamp")


def check_safe_xml(body: bytes) -> str:
    """The body as text, refused (400) when it is too big, not UTF-8 or carries a DTD.

    xmltodict already refuses entity declarations; rejecting any DOCTYPE up front also covers
    external entities and keeps expat from doing any DTD work at all.
    """
    if len(body) > MAX_BODY_BYTES:
        raise RejectedRequest(413, "body too large")
    if not body.strip():
        raise RejectedRequest(400, "empty body")
    if _DTD_MARKERS.search(body):
        raise RejectedRequest(400, "DTDs are not accepted")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise RejectedRequest(400, "body is not UTF-8") from None


def parse_xml_fields(xml_text: str) -> dict[str, Any]:
    """The children of the root <xml> element; 400 for anything else."""
    try:
        document = xmltodict.parse(xml_text)
    except Exception:  # expat errors, entity declarations (ValueError) and the like
        raise RejectedRequest(400, "malformed XML") from None
    fields = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(fields, dict):
        raise RejectedRequest(400, "root element is not <xml>")
    return fields


def parse_wechat_message(xml_text: str) -> BaseMessage:
    """A wechatpy message object from checked XML text; 400 when it is not a WeChat message."""
    fields = parse_xml_fields(xml_text)
    if not fields.get("MsgType") or not fields.get("FromUserName"):
        raise RejectedRequest(400, "MsgType or FromUserName missing")
    try:
        return parse_message(xml_text)
    except Exception:
        raise RejectedRequest(400, "not a WeChat message") from None

"""Turns the assistant's replies into WeChat text: numbered options for buttons, size-safe parts."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pos_assistant.channels.wechat_texts import WeChatTexts

MAX_REPLY_BYTES = 2048  # longer text replies are reported to fail
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;…])")
_OPTION_ANSWER = re.compile(r"(\d{1,2})[.、。)）]?")


@dataclass(frozen=True)
class Option:
    title: str
    payload: str


@dataclass
class RenderedReply:
    """Reply text in parts that each fit one WeChat message, and the options it offered."""

    parts: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)


def render_replies(messages: Iterable[dict[str, Any]], texts: WeChatTexts) -> RenderedReply:
    """Joins the bot messages collected for one turn; buttons become numbered options."""
    blocks: list[str] = []
    options: list[Option] = []
    for message in messages:
        if message.get("text"):
            blocks.append(str(message["text"]).strip())
        if message.get("image"):
            blocks.append(str(message["image"]))
        buttons = message.get("buttons") or message.get("quick_replies") or []
        lines = []
        for button in buttons:
            title, payload = button.get("title"), button.get("payload")
            if not title or not payload:
                continue
            options.append(Option(title=str(title), payload=str(payload)))
            lines.append(texts.format_option(len(options), str(title)))
        if lines:
            blocks.append("\n".join([texts.options_header, *lines]))
    full_text = "\n\n".join(block for block in blocks if block)
    return RenderedReply(parts=split_for_wechat(full_text), options=options)


def split_for_wechat(text: str, limit: int = MAX_REPLY_BYTES) -> list[str]:
    """Splits text into parts of at most `limit` UTF-8 bytes, at paragraph, line or sentence ends.

    Only a single sentence longer than the limit is cut inside, and then between characters.
    """
    text = text.strip()
    if not text:
        return []
    pieces = _pieces(text, limit)
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = current + piece
        if current and _size(candidate.strip()) > limit:
            parts.append(current.strip())
            current = piece.lstrip("\n")
        else:
            current = candidate
    if current.strip():
        parts.append(current.strip())
    return parts


def _pieces(text: str, limit: int) -> list[str]:
    """Lines (with their newline) broken further into sentences, then characters, to fit."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        if _size(line) <= limit:
            pieces.append(line)
            continue
        for sentence in filter(None, _SENTENCE_END.split(line)):
            if _size(sentence) <= limit:
                pieces.append(sentence)
            else:
                pieces.extend(_cut_by_characters(sentence, limit))
    return pieces


def _cut_by_characters(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for character in text:
        if _size(current + character) > limit:
            chunks.append(current)
            current = ""
        current += character
    if current:
        chunks.append(current)
    return chunks


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def chosen_option(content: str, options: list[Option]) -> Option | None:
    """The option a reply like "1", "１" or "2." picks from the last offered list, if any."""
    if not options:
        return None
    match = _OPTION_ANSWER.fullmatch(unicodedata.normalize("NFKC", content).strip())
    if not match:
        return None
    number = int(match.group(1))
    return options[number - 1] if 1 <= number <= len(options) else None


def passive_text_reply(
    to_user: str, from_account: str, content: str, now: int | None = None
) -> str:
    """The passive-reply XML WeChat documents (CDATA content, "]]>" split so it cannot close it)."""
    created = int(time.time()) if now is None else now
    return (
        "<xml>"
        f"<ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_account)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"

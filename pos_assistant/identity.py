"""Conversation ids namespaced by channel, and which of them prove who the user is.

Every input channel turns the sender it receives into ``<prefix>:<raw sender>``, so no channel
can address another channel's conversations (a REST client that sends ``wx:o123`` talks in
``rest:wx:o123``, never in the WeChat user's conversation). Only ids that the server itself
vouches for count as an identity: the widget's socket.io session (issued by the relay) and a
WeChat openid (in a signed request). A REST sender is whatever the caller typed, so it never
does: case lookups over REST always need the last-4 check.
"""

from __future__ import annotations

from typing import NamedTuple

SEPARATOR = ":"

# Rasa input channel name -> the prefix of its conversation ids.
CHANNEL_PREFIXES: dict[str, str] = {"rest": "rest", "socketio": "web", "wechat": "wx"}

# Prefixes whose raw sender was issued or signed by the server, not chosen by the client.
TRUSTED_PREFIXES = frozenset({"web", "wx"})


class ChannelIdentity(NamedTuple):
    """Who a conversation belongs to, as far as the server can vouch for it."""

    channel: str
    user_id: str


def conversation_id(channel: str, raw_sender: str) -> str:
    """The namespaced conversation id for a sender seen on ``channel`` (a Rasa channel name)."""
    prefix = CHANNEL_PREFIXES[channel]
    return f"{prefix}{SEPARATOR}{raw_sender}"


def channel_of_conversation(conversation: str) -> str | None:
    """The Rasa channel name a namespaced conversation id belongs to, or None when it has none."""
    prefix, separator, _ = conversation.partition(SEPARATOR)
    if not separator:
        return None
    for channel, channel_prefix in CHANNEL_PREFIXES.items():
        if channel_prefix == prefix:
            return channel
    return None


def trusted_identity(conversation: str) -> ChannelIdentity | None:
    """The identity a conversation id proves, or None (REST, unknown or un-namespaced ids)."""
    prefix, separator, raw = conversation.partition(SEPARATOR)
    if not separator or not raw or prefix not in TRUSTED_PREFIXES:
        return None
    channel = channel_of_conversation(conversation)
    return ChannelIdentity(channel, conversation) if channel else None


def raw_sender(channel: str, conversation: str) -> str | None:
    """The channel's own user id behind ``conversation`` (to send it a reply), or None when the
    conversation does not belong to ``channel``: a channel never delivers to another's users."""
    prefix = CHANNEL_PREFIXES[channel] + SEPARATOR
    if not conversation.startswith(prefix) or len(conversation) == len(prefix):
        return None
    return conversation[len(prefix) :]

"""Conversation ids are namespaced per channel, and only server-vouched ids are identities."""

from pos_assistant.identity import (
    ChannelIdentity,
    channel_of_conversation,
    conversation_id,
    trusted_identity,
)


def test_each_channel_gets_its_own_namespace() -> None:
    assert conversation_id("rest", "u1") == "rest:u1"
    assert conversation_id("socketio", "abc") == "web:abc"
    assert conversation_id("wechat", "o123") == "wx:o123"


def test_a_rest_sender_cannot_step_into_another_channel() -> None:
    forged = conversation_id("rest", "wx:o123")
    assert forged == "rest:wx:o123"
    assert channel_of_conversation(forged) == "rest"
    assert trusted_identity(forged) is None


def test_only_widget_sessions_and_wechat_openids_are_identities() -> None:
    assert trusted_identity("wx:o123") == ChannelIdentity("wechat", "wx:o123")
    assert trusted_identity("web:abc") == ChannelIdentity("socketio", "web:abc")
    assert trusted_identity("rest:u1") is None
    assert trusted_identity("u1") is None
    assert trusted_identity("wx:") is None
    assert trusted_identity("sms:123") is None

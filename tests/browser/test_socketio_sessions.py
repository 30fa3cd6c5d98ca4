"""The widget's socket.io channel binds each socket to the session it was confirmed into."""

from __future__ import annotations

import queue

import pytest
import socketio

from tests.e2e.stack import RasaStack, conversation_id
from tests.e2e.test_conversation_flows import staff

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 60  # a wait for the assistant, not an assertion on its speed


class ChatClient:
    """A minimal socket.io client speaking the widget's protocol (sync: the pinned aiohttp is too
    old for python-socketio's asyncio client)."""

    def __init__(self, rasa_url: str) -> None:
        self.confirmations: queue.Queue[str] = queue.Queue()
        self.replies: queue.Queue[dict] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_confirm", self.confirmations.put)
        self.client.on("bot_uttered", self.replies.put)
        self.client.connect(rasa_url, socketio_path="/socket.io", transports=["websocket"])

    def request_session(self, requested: str | None) -> str:
        self.client.emit("session_request", {"session_id": requested})
        return self.confirmations.get(timeout=WAIT_SECONDS)

    def close(self) -> None:
        self.client.disconnect()


def user_texts(stack: RasaStack, sender: str) -> list[str]:
    return [e["text"] for e in stack.tracker(sender, "socketio")["events"] if e["event"] == "user"]


def test_a_socket_cannot_write_into_another_conversation(rasa_stack: RasaStack) -> None:
    chat = ChatClient(rasa_stack.rasa_url)
    try:
        session_id = chat.request_session(None)
        victim = "wechat-openid-of-someone-else"
        chat.client.emit("user_uttered", {"message": "你好", "session_id": victim})
        assert chat.replies.get(timeout=WAIT_SECONDS)
    finally:
        chat.close()
    assert user_texts(rasa_stack, session_id) == ["你好"]
    assert user_texts(rasa_stack, victim) == []


def test_requested_session_ids_must_look_like_ours(rasa_stack: RasaStack) -> None:
    chat = ChatClient(rasa_stack.rasa_url)
    try:
        odd = chat.request_session("../../admin")
        kept = chat.request_session("0123456789abcdef0123456789abcdef")
    finally:
        chat.close()
    assert odd != "../../admin" and len(odd) == 32
    assert kept == "0123456789abcdef0123456789abcdef"


def test_an_agents_reply_is_pushed_to_the_waiting_widget(rasa_stack: RasaStack) -> None:
    chat = ChatClient(rasa_stack.rasa_url)
    try:
        session_id = chat.request_session(None)
        chat.client.emit("user_uttered", {"message": "转人工", "session_id": session_id})
        assert "转接人工客服" in chat.replies.get(timeout=WAIT_SECONDS)["text"]
        conversation = conversation_id(session_id, "socketio")
        staff(rasa_stack, "handoff", "reply", conversation, "您好，我是客服小王", "--agent", "小王")
        assert chat.replies.get(timeout=WAIT_SECONDS)["text"] == "您好，我是客服小王"
    finally:
        chat.close()

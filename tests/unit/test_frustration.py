"""FrustrationDetector: clear frustration becomes request_human; scam warnings still win."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu.frustration import FrustrationDetector, load_phrases

PHRASES_FILE = "data/frustration.yml"


def classify(text: str, intent: str = "out_of_scope") -> Message:
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": 0.8}})
    FrustrationDetector(load_phrases(PHRASES_FILE)).process([message])
    return message


@pytest.mark.parametrize(
    "text", ["你们这破机器人听不懂人话吗", "说了多少遍了到底能不能解决", "垃圾客服"]
)
def test_frustration_hands_over(text: str) -> None:
    message = classify(text)
    assert message.get(INTENT)["name"] == "request_human"
    assert message.get("frustration_detected") is True


@pytest.mark.parametrize(
    "text", ["有个骗子冒充售后给我打电话", "押金怎么还没退", "/out_of_scope", "谢谢你帮了大忙"]
)
def test_ordinary_or_scam_messages_keep_their_intent(text: str) -> None:
    assert classify(text).get(INTENT)["name"] == "out_of_scope"

"""SafetyGuard: scam topics force report_suspicious_call, payloads never do."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu import message_keys
from pos_assistant.nlu.safety_guard import SafetyGuard, scam_topics
from tests.unit.nlu_helpers import execution_context


@pytest.fixture
def guard(tmp_path) -> SafetyGuard:
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    return SafetyGuard.create({}, LocalModelStorage(tmp_path), Resource("g"), execution_context())


def classified(text: str, intent: str = "ask_fees", confidence: float = 0.8) -> Message:
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "report_suspicious_call", "confidence": 1 - confidence},
    ]
    return Message(
        {
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: ranking,
        }
    )


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("对方要我的验证码", "verification_code"),
        ("问我银行卡密码", "password"),
        ("售后来电要我读卡号", "card_number"),
        ("让我往一个账户转账", "transfer"),
        ("给他汇款了两千块", "transfer"),
        ("让我下载他们的APP退押金", "remote_app"),
        ("对方让我装个app", "remote_app"),
        ("叫我开屏幕共享", "remote_app"),
        ("短信里说点链接领押金", "link"),
    ],
)
def test_scam_topics_are_recognised(text: str, topic: str) -> None:
    assert topic in scam_topics(text)


@pytest.mark.parametrize("text", ["押金什么时候退", "怎么申请pos机", "apply for a pos", "你好"])
def test_ordinary_questions_have_no_scam_topic(text: str) -> None:
    assert scam_topics(text) == []


def test_scam_topic_overrides_the_classifier_and_keeps_its_ranking(guard: SafetyGuard) -> None:
    message = classified("客服让我把验证码告诉他 说能退押金", intent="report_no_activation_refund")
    ranking_before = list(message.get(INTENT_RANKING_KEY))
    guard.process([message])
    assert message.get(INTENT) == {"name": "report_suspicious_call", "confidence": 1.0}
    assert message.get(INTENT_RANKING_KEY) == ranking_before
    flag = message.as_dict(only_output_properties=True)[message_keys.SAFETY_GUARD]
    assert flag["triggered"] is True
    assert flag["topics"] == ["verification_code"]
    assert flag["classified_intent"]["name"] == "report_no_activation_refund"


def test_scam_topic_overrides_nlu_fallback(guard: SafetyGuard) -> None:
    message = classified("他要密码", intent="nlu_fallback", confidence=0.5)
    guard.process([message])
    assert message.get(INTENT)["name"] == "report_suspicious_call"


def test_quick_reply_payloads_are_left_alone(guard: SafetyGuard) -> None:
    message = classified('/inform{"note":"验证码"}', intent="inform")
    guard.process([message])
    assert message.get(INTENT)["name"] == "inform"
    assert message.get(message_keys.SAFETY_GUARD) is None


def test_messages_without_scam_topics_keep_their_intent(guard: SafetyGuard) -> None:
    message = classified("电签机押金多少钱")
    guard.process([message])
    assert message.get(INTENT)["name"] == "ask_fees"
    assert message.get(message_keys.SAFETY_GUARD) is None


def test_a_users_own_card_number_keeps_its_intent_and_is_marked(guard: SafetyGuard) -> None:
    text = "我卡号6222021234567890123 押金怎么退"
    message = classified(text, intent="report_no_activation_refund")
    guard.process([message])
    assert message.get(INTENT)["name"] == "report_no_activation_refund"
    output = message.as_dict(only_output_properties=True)
    assert output[message_keys.SENSITIVE_DATA] == {"secrets": ["card_number"]}
    assert message_keys.SAFETY_GUARD not in output


@pytest.mark.parametrize(
    "text",
    [
        "他让我报验证码 我报了483920",
        "对方要我卡号 我给了6222021234567890123",
        "自称售后的说验证码是730215要我念给他",
        "卡号6222021234567890123 对方还让我转账",
        "卡号6222021234567890123 还要转账吗",  # a topic the number does not explain: transfer
    ],
)
def test_a_secret_someone_asked_for_stays_a_scam_warning(guard: SafetyGuard, text: str) -> None:
    message = classified(text, intent="report_no_activation_refund")
    guard.process([message])
    assert message.get(INTENT)["name"] == "report_suspicious_call"
    assert message.get(message_keys.SENSITIVE_DATA) is None

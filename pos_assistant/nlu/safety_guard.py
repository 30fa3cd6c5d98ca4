"""Forces the scam warning when a message touches codes, passwords, cards, transfers, apps, links.

A "POS after-sales" caller asking for an SMS code is the costliest case to miss, and the classifier
can be unsure about it ("对方让我装个app退押金" looks like a refund question). So a keyword match
overrides the classifier: intent report_suspicious_call with confidence 1.0.

Placed after FallbackClassifier: it must win over nlu_fallback too (a message the classifier found
ambiguous is still a scam warning when it mentions a verification code), and FallbackClassifier's
ambiguity check reads the ranking, which this component keeps unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from pos_assistant.nlu import message_keys
from pos_assistant.nlu.text_normalizer import is_quick_reply_payload

SCAM_INTENT = "report_suspicious_call"

_APP = r"(?<![a-z])app(?![a-z])"
# Each topic: what a scammer asks for. Matched on the normalized text (验zheng码 → 验证码).
SCAM_TOPICS: dict[str, re.Pattern[str]] = {
    "verification_code": re.compile(r"验证码|校验码|动态码|短信码|动态密码"),
    "password": re.compile(r"密码"),
    "card_number": re.compile(r"卡号|cvv|cvn|安全码|卡背面.{0,3}(?:三|3)位", re.I),
    "transfer": re.compile(r"转账|汇款|打款|转钱|打钱|转给(?:他|她|对方|一个)"),
    "remote_app": re.compile(
        rf"(?:下载|安装|装)(?:一?个|了|他们的|对方的|官方)?.{{0,6}}?(?:{_APP}|软件|程序|客户端)"
        r"|共享屏幕|屏幕共享|开(?:启)?共享|远程(?:控制|协助|操作|桌面|软件)?|会议软件|视频会议",
        re.I,
    ),
    "link": re.compile(r"链接|网址|网页链|短链"),
}


def scam_topics(text: str) -> list[str]:
    """The scam topics `text` mentions (none for button payloads like "/report_suspicious_call")."""
    if not text or is_quick_reply_payload(text):
        return []
    return [topic for topic, pattern in SCAM_TOPICS.items() if pattern.search(text)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyGuard(GraphComponent):
    """Sets intent report_suspicious_call (1.0) and a `safety_guard` flag on scam topics."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyGuard:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            topics = scam_topics(message.get(TEXT) or "")
            if not topics:
                continue
            classified = dict(message.get(INTENT) or {})
            message.set(
                INTENT,
                {INTENT_NAME_KEY: SCAM_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0},
                add_to_output=True,
            )
            message.set(
                message_keys.SAFETY_GUARD,
                {"triggered": True, "topics": topics, "classified_intent": classified},
                add_to_output=True,
            )
        return messages

"""Forces the scam warning when a message touches codes, passwords, cards, transfers, apps, links.

A "POS after-sales" caller asking for an SMS code is the costliest case to miss, and the classifier
can be unsure about it ("对方让我装个app退押金" looks like a refund question). So a keyword match
overrides the classifier: intent report_suspicious_call with confidence 1.0.

Placed after FallbackClassifier: it must win over nlu_fallback too (a message the classifier found
ambiguous is still a scam warning when it mentions a verification code), and FallbackClassifier's
ambiguity check reads the ranking, which this component keeps unchanged.

A user who types their own card number, ID number, code or password to the assistant ("我卡号
6222…，押金怎么退") is not reporting a scam: the classified intent stays, and a `sensitive_data`
entry in the parse tells the action server to ask them not to (actions/sensitive_data.py). When the
same message speaks of someone asking for it ("他让我报验证码 483920"), it is a scam warning.
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

from pos_assistant.disclosed_secrets import disclosed_secrets
from pos_assistant.nlu import message_keys, project_files
from pos_assistant.nlu.scam_phrases import matching_phrase_topics
from pos_assistant.nlu.text_normalizer import is_quick_reply_payload
from pos_assistant.number_labels import label_alternatives

SCAM_INTENT = "report_suspicious_call"

SAFETY_TOPICS_FILE = "data/safety_topics.yml"


def load_scam_topics(path: str = SAFETY_TOPICS_FILE) -> dict[str, re.Pattern[str]]:
    """Topic → its pattern, from the data file; `{verification_code}` is the shared code labels."""
    table = project_files.read_yaml(path)["topics"]
    code_labels = label_alternatives("verification_code")
    return {
        str(topic): re.compile(str(pattern).replace("{verification_code}", code_labels), re.I)
        for topic, pattern in table.items()
    }


# Each topic: what a scammer asks for (data/safety_topics.yml).
SCAM_TOPICS = load_scam_topics()


# Someone else in the story: the secret was asked for, not just typed to us. "其他" is not "他".
_SOMEONE_ASKED = re.compile(
    r"对方|(?<!其)[他她]|骗子|陌生|售后|自称|冒充|[让要叫]我|报给|告诉了|发给"
)
# A secret the user typed explains the scam topic of the same name that its label raised
# ("卡号6222…": the topic card_number comes from the word 卡号).
_TOPICS_NAMED_AFTER_SECRETS = frozenset({"card_number", "verification_code", "password"})


def scam_topics(text: str) -> list[str]:
    """The scam topics `text` mentions (none for button payloads like "/report_suspicious_call")."""
    if not text or is_quick_reply_payload(text):
        return []
    topics = [topic for topic, pattern in SCAM_TOPICS.items() if pattern.search(text)]
    # Refund scams ("退押金得先交50手续费", "转到他私人微信") from data/scam_phrases.yml.
    return topics + matching_phrase_topics(text)


def is_own_disclosure(text: str, secrets: list[str], topics: list[str]) -> bool:
    """Whether the user only typed their own secret, with nobody asking for it in the message."""
    if not secrets or _SOMEONE_ASKED.search(text):
        return False
    explained = _TOPICS_NAMED_AFTER_SECRETS.intersection(secrets)
    return all(topic in explained for topic in topics)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyGuard(GraphComponent):
    """Forces report_suspicious_call (1.0) on scam topics; marks secrets the user typed."""

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
            text = message.get(TEXT) or ""
            if not text or is_quick_reply_payload(text):
                continue
            topics = scam_topics(text)
            secrets = secrets_typed_in(message)
            if is_own_disclosure(text, secrets, topics):
                message.set(message_keys.SENSITIVE_DATA, {"secrets": secrets}, add_to_output=True)
            elif topics:
                _force_scam_warning(message, topics)
        return messages


def secrets_typed_in(message: Message) -> list[str]:
    """Secrets TextNormalizer cut out of the message (or, without it, found in the text)."""
    normalization = message.get(message_keys.NORMALIZATION)
    if normalization is not None:
        return list(normalization.get("secrets") or [])
    return disclosed_secrets(message.get(TEXT) or "")


def _force_scam_warning(message: Message, topics: list[str]) -> None:
    classified = dict(message.get(INTENT) or {})
    message.set(
        INTENT, {INTENT_NAME_KEY: SCAM_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True
    )
    message.set(
        message_keys.SAFETY_GUARD,
        {"triggered": True, "topics": topics, "classified_intent": classified},
        add_to_output=True,
    )

"""One vocabulary of number labels (data/number_labels.yml), read the same by every component."""

from __future__ import annotations

import pytest

from pos_assistant.disclosed_secrets import disclosed_secrets
from pos_assistant.nlu.id_patterns import find_ids
from pos_assistant.nlu.safety_guard import scam_topics
from pos_assistant.number_labels import number_labels


@pytest.mark.parametrize("label", number_labels()["device_serial"])
def test_a_serial_after_any_serial_label_is_a_serial_and_not_a_card_number(label: str) -> None:
    text = f"{label} 8800123456789012"
    assert [(entity.entity, entity.value) for entity in find_ids(text)] == [
        ("device_sn", "8800123456789012")
    ]
    assert disclosed_secrets(text) == []


@pytest.mark.parametrize("label", number_labels()["verification_code"])
def test_any_code_label_marks_a_secret_and_a_scam_topic(label: str) -> None:
    assert disclosed_secrets(f"{label}是483920") == ["verification_code"]
    assert "verification_code" in scam_topics(f"对方让我报{label}")


@pytest.mark.parametrize("label", number_labels()["waybill"])
def test_a_long_number_after_a_waybill_label_is_not_a_card_number(label: str) -> None:
    assert disclosed_secrets(f"{label} 7712345678901234") == []

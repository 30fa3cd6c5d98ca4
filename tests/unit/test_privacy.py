"""Masking of personal data in transcripts and logs."""

from __future__ import annotations

import logging
import time

import pytest

from pos_assistant.disclosed_secrets import disclosed_secrets
from pos_assistant.log_masking import MaskingLogFilter
from pos_assistant.privacy import mask_text
from pos_assistant.tracker_store import mask_event_data


def test_phone_id_and_card_numbers_are_masked_in_free_text() -> None:
    text = "手机13812345678，+86 139-1234-5678，身份证110101199003071234，卡号6222021234567890123"
    masked = mask_text(text)
    assert "13812345678" not in masked and "138****5678" in masked
    assert "139****5678" in masked
    assert "110101199003071234" not in masked and "110***********1234" in masked
    assert "6222021234567890123" not in masked and masked.endswith("0123")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("卡号 6222 0212 3456 7890 123", "卡号 ************0123"),
        ("6222-0212-3456-7890", "************7890"),
        ("身份证 110101 19900307 1234", "身份证 110***********1234"),
        ("验证码是 483920，要填哪", "验证码******，要填哪"),
        ("我的密码：abc12345", "我的密码******"),
        ("my password is Qwe12345", "my password******"),
        ("code: 5821", "code******"),
    ],
)
def test_grouped_numbers_codes_and_passwords_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("我卡号6222021234567890123 押金怎么退", ["card_number"]),
        ("身份证110101199003071234", ["id_number"]),
        ("验证码 730215", ["verification_code"]),
        ("密码是 qwe123456", ["password"]),
        ("身份证110101199003071234 卡号6222 0212 3456 7890", ["id_number", "card_number"]),
        # Serial and waybill numbers after their label, phones, case numbers: not secrets.
        ("SN 8800123456789012", []),
        ("快递单号 7788991234567890", []),
        ("电话13812345678 工单CS2611270001", []),
        ("验证码是多少", []),
        ("密码忘了怎么办", []),
        ("zipcode 100000", []),
        ("刷卡显示 error code 1234", []),
    ],
)
def test_disclosed_secrets_names_what_a_message_gives_away(text: str, kinds: list[str]) -> None:
    assert disclosed_secrets(text) == kinds


def test_case_numbers_and_short_numbers_stay_readable() -> None:
    assert (
        mask_text("工单CS2611260001，押金299元，尾号5678")
        == "工单CS2611260001，押金299元，尾号5678"
    )


def test_stored_user_events_are_masked_but_not_changed_in_place() -> None:
    event = {
        "event": "user",
        "text": "我的电话13812345678",
        "parse_data": {
            "text": "我的电话13812345678",
            "entities": [{"entity": "phone_number", "value": "13812345678"}],
        },
    }
    stored = mask_event_data(event)
    assert stored["text"] == stored["parse_data"]["text"] == "我的电话138****5678"
    assert stored["parse_data"]["entities"][0]["value"] == "138****5678"
    assert event["text"] == "我的电话13812345678"


def test_log_records_are_masked() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "user said %s", ("13812345678",), None
    )
    MaskingLogFilter().filter(record)
    assert record.getMessage() == "user said 138****5678"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("手机1381-234-5678", "手机138****5678"),
        ("138 12 34 56 78 找我", "138****5678 找我"),
        ("１３８１２３４５６７８", "138****5678"),
        ("138.1234.5678", "138****5678"),
        ("电话一三八一二三四五六七八", "电话138****5678"),
        ("幺三八 幺二三四 五六七八", "138****5678"),
        ("+86 139-1234-5678", "+86 139****5678"),
        ("电话13812345678 3点后打", "电话138****5678 3点后打"),
        ("6222021234567890 13812345678", "************7890 138****5678"),
        ("身份证 110101 19900307 123 x 好", "身份证 110***********123X 好"),
        ("验证码：４ ８ ３-九 二 零", "验证码******"),
        ("cvv 123", "cvv******"),
        ("138\u200b1234\u200b5678", "138****5678"),
    ],
)
def test_numbers_are_masked_however_they_are_typed(text: str, masked: str) -> None:
    assert mask_text(text) == masked


READABLE = ("我一直在等，两台机器押金299元", "工单CS2611260001", "2026-12-02 13:45")
READABLE += ("ip 203.0.113.254",)


@pytest.mark.parametrize("text", READABLE)
def test_prose_dates_and_short_numbers_stay_readable(text: str) -> None:
    assert mask_text(text) == text


LONG_ADVERSARIAL = {
    "digit-space": "1 " * 10_000, "full-width digits": "１" * 20_000,
    "code labels": "验证码 " * 5_000, "password labels": "密码" * 10_000,
    "numerals": "一" * 20_000, "86 groups": "8 6 " * 5_000,
    "password is": "password is" * 2_000, "dashed with X": "1-" * 10_000 + "X",
    "code groups": "code 1 " * 3_000,
}  # fmt: skip


@pytest.mark.parametrize("text", LONG_ADVERSARIAL.values(), ids=LONG_ADVERSARIAL.keys())
def test_masking_is_linear_on_long_adversarial_text(text: str) -> None:
    # Transcripts and log lines are masked on every turn: 20,000 characters in well under 0.5 s
    # (n² work on these would take many seconds).
    start = time.perf_counter()
    mask_text(text)
    assert time.perf_counter() - start < 0.5

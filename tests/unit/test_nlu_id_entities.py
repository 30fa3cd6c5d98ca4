"""IdEntityExtractor: IDs and amounts with lookarounds, no overlaps, no doubles."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import ENTITIES

from pos_assistant.nlu.chinese_numbers import amount_to_digits
from pos_assistant.nlu.id_patterns import find_ids
from tests.unit.nlu_helpers import CustomPipeline


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> CustomPipeline:
    return CustomPipeline(tmp_path_factory.mktemp("nlu-model"))


def entities(pipeline: CustomPipeline, text: str) -> list[tuple[str, str, str]]:
    """(type, value, text the user wrote) for every entity but brands."""
    message = pipeline.parse(text)
    return [
        (entity["entity"], entity["value"], text[entity["start"] : entity["end"]])
        for entity in message.get(ENTITIES) or []
        if entity["entity"] != "brand"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手机13812345678谢谢", [("phone_number", "13812345678", "13812345678")]),
        ("电话是186 0000 1234", [("phone_number", "18600001234", "186 0000 1234")]),
        ("139-1111-2222", [("phone_number", "13911112222", "139-1111-2222")]),
        ("+86 138 1234 5678", [("phone_number", "13812345678", "138 1234 5678")]),
        ("查下cs2611240008进度", [("case_number", "CS2611240008", "cs2611240008")]),
        ("工单[CS 2611 2600 19]", [("case_number", "CS2611260019", "CS 2611 2600 19")]),
        ("Cs2611280066现在什么状态", [("case_number", "CS2611280066", "Cs2611280066")]),
        ("快递单yt4455667788990", [("tracking_number", "YT4455667788990", "yt4455667788990")]),
        ("顺丰SF2233445566778", [("tracking_number", "SF2233445566778", "SF2233445566778")]),
        ("SN是ZF12345678", [("device_sn", "ZF12345678", "ZF12345678")]),
        ("SN:YS20240601889", [("device_sn", "YS20240601889", "YS20240601889")]),
        ("序列号是HK3300778899AB", [("device_sn", "HK3300778899AB", "HK3300778899AB")]),
        ("编号sft8800990011", [("device_sn", "SFT8800990011", "sft8800990011")]),
        ("押金59元 一直退不了", [("amount", "59", "59元")]),
        ("交了299押金", [("amount", "299", "299")]),
        ("押金交了三百块", [("amount", "300", "三百块")]),
    ],
)
def test_extracts_ids_at_their_original_position(
    pipeline: CustomPipeline, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert entities(pipeline, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12345678901",  # 11 digits, not a mobile prefix
        "138123456789",  # 12 digits
        "订单号 10012345678",  # starts with 10
        "我的qq 1234567890",
        "几百块钱的事",
        "我们一块儿去",
        "工单编号12345678",
        "商户编号12345678901",  # a merchant number, not a device serial
        "押金一直没退",  # 一直 is "all along", not the amount 1
        "押金一直不给退 都三个月了",
    ],
)
def test_ignores_numbers_that_are_no_id(pipeline: CustomPipeline, text: str) -> None:
    assert entities(pipeline, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my phone is 13612345678", [("phone_number", "13612345678", "13612345678")]),
        ("call me 138 1234 5678", [("phone_number", "13812345678", "138 1234 5678")]),
        ("押金两百没退", [("amount", "200", "两百")]),
        ("sf 1234 5678 90 到了", [("tracking_number", "SF1234567890", "sf 1234 5678 90")]),
    ],
)
def test_words_next_to_numbers_stay_words(
    pipeline: CustomPipeline, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert entities(pipeline, text) == expected


def test_a_phone_number_is_never_read_inside_a_case_or_tracking_number() -> None:
    found = find_ids("CS1381234567 和 SF13812345678")
    assert [(e.entity, e.value) for e in found] == [
        ("case_number", "CS1381234567"),
        ("tracking_number", "SF13812345678"),
    ]


def test_a_case_number_is_never_a_tracking_number() -> None:
    assert [e.entity for e in find_ids("CS2611220007")] == ["case_number"]
    assert find_ids("CS261122000712") == []


def test_several_ids_in_one_message_come_once_each(pipeline: CustomPipeline) -> None:
    text = "工单CS2611220007 手机13812345678 运单SF9988776655443 押金两百九十九元"
    assert entities(pipeline, text) == [
        ("case_number", "CS2611220007", "CS2611220007"),
        ("phone_number", "13812345678", "13812345678"),
        ("tracking_number", "SF9988776655443", "SF9988776655443"),
        ("amount", "299", "两百九十九元"),
    ]


def test_entities_already_found_are_not_extracted_again(pipeline: CustomPipeline) -> None:
    taken = [(0, 11)]
    assert find_ids("13812345678", taken=taken) == []


@pytest.mark.parametrize(
    ("number", "digits"),
    [
        ("两百九十九", "299"),
        ("一千二", "1200"),
        ("三万五", "35000"),
        ("一百零五", "105"),
        ("十五", "15"),
        ("五十九", "59"),
        ("两千", "2000"),
        ("1.5万", "15000"),
        ("59", "59"),
        ("59.9", "59.9"),
        ("好多", None),
    ],
)
def test_amount_numerals_become_digit_strings(number: str, digits: str | None) -> None:
    assert amount_to_digits(number) == digits


@pytest.mark.parametrize(
    ("text", "value"),
    [("两百九十九元", "299"), ("一千二块", "1200"), ("59块", "59"), ("退我100rmb", "100")],
)
def test_amounts_need_a_currency_word(pipeline: CustomPipeline, text: str, value: str) -> None:
    assert [(kind, found) for kind, found, _ in entities(pipeline, text)] == [("amount", value)]

"""TextNormalizer and EntityPositionRestorer: normalized text in, original positions out."""

from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from pos_assistant.nlu import message_keys
from pos_assistant.nlu.normalization import TextNormalization
from tests.unit.nlu_helpers import CustomPipeline, trained_normalizer, training_and_held_out_texts


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> CustomPipeline:
    return CustomPipeline(tmp_path_factory.mktemp("nlu-model"))


@pytest.fixture(scope="module")
def normalization() -> TextNormalization:
    return TextNormalization({"七咋": "诈骗", "ka卡": "卡", "pos鸡": "POS机", "信xin息": "信息"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＰＯＳ机１２３", "POS机123"),
        ("我沒有買過POS機", "我没有买过POS机"),
        ("是不是七咋", "是不是诈骗"),
        ("问我要KA卡号", "问我要卡号"),
        ("收到个Pos鸡", "收到个POS机"),
        ("拿我信XIN息办的", "拿我信息办的"),
        ("工单 cs 2611 2200 07 呢", "工单 CS2611220007 呢"),
        ("电话138-1234-5678", "电话13812345678"),
        ("手机 138 1234 5678 谢谢", "手机 13812345678 谢谢"),
        ("单号 yt 4455 6677 8899 0", "单号 YT4455667788990"),
        # A short number next to an ID-like one is left alone.
        ("交了 299 元", "交了 299 元"),
    ],
)
def test_normalizes_text(normalization: TextNormalization, text: str, expected: str) -> None:
    assert normalization.normalize(text).text == expected


def test_every_normalized_character_maps_back_into_the_original(
    normalization: TextNormalization,
) -> None:
    original = "ＫＡ卡号给了七咋的人 CS 2611 2200 07"
    result = normalization.normalize(original)
    assert result.text == "卡号给了诈骗的人 CS2611220007"
    assert len(result.spans) == len(result.text)
    case_start = result.text.index("CS")
    start, end = result.to_original_span(case_start, case_start + 12)
    assert original[start:end] == "CS 2611 2200 07"
    start, end = result.to_original_span(4, 6)  # 诈骗
    assert original[start:end] == "七咋"
    start, end = result.to_original_span(0, 1)  # 卡 came from ＫＡ卡
    assert original[start:end] == "ＫＡ卡"


def test_training_annotations_move_to_the_normalized_text(tmp_path) -> None:
    normalizer = trained_normalizer(LocalModelStorage(tmp_path))
    text = "工单号 cs 2611 2300 12 谢谢"
    start = text.index("cs")
    end = start + len("cs 2611 2300 12")
    example = Message(
        {
            TEXT: text,
            ENTITIES: [
                {"entity": "case_number", "start": start, "end": end, "value": "CS2611230012"}
            ],
        }
    )
    normalizer.process_training_data(TrainingData([example]))
    entity = example.get(ENTITIES)[0]
    assert example.get(TEXT)[entity["start"] : entity["end"]] == "CS2611230012"


def test_pipeline_reports_positions_in_the_text_the_user_sent(pipeline: CustomPipeline) -> None:
    original = "我的工單 cs 2611 2200 07，手機138-1234-5678，是銀盛的ＰＯＳ機"
    message = pipeline.parse(original)
    assert message.get(TEXT) == original
    by_type = {entity["entity"]: entity for entity in message.get(ENTITIES)}
    assert set(by_type) == {"case_number", "phone_number", "brand"}
    assert by_type["case_number"]["value"] == "CS2611220007"
    assert by_type["phone_number"]["value"] == "13812345678"
    assert by_type["brand"]["value"] == "银盛"
    spans = {kind: original[e["start"] : e["end"]] for kind, e in by_type.items()}
    assert spans == {
        "case_number": "cs 2611 2200 07",
        "phone_number": "138-1234-5678",
        "brand": "銀盛",
    }


def test_token_positions_are_restored_too(pipeline: CustomPipeline) -> None:
    original = "工单CS 2611 2600 19"
    message = Message({TEXT: original})
    message = pipeline.normalizer.process([message])[0]
    normalized = message.get(TEXT)
    assert normalized == "工单CS2611260019"
    message.set(TEXT_TOKENS, [Token("工单", 0), Token("CS2611260019", 2)])
    pipeline.restorer.process([message])
    spans = [(token.start, token.end) for token in message.get(TEXT_TOKENS)]
    assert spans == [(0, 2), (2, len(original))]


def test_normalization_data_stays_off_the_parse_result(pipeline: CustomPipeline) -> None:
    message = pipeline.parse("ｐｏｓ机的押金")
    output = message.as_dict(only_output_properties=True)
    assert message_keys.NORMALIZATION not in output
    assert output[TEXT] == "ｐｏｓ机的押金"


def test_quick_reply_payloads_are_not_rewritten(pipeline: CustomPipeline) -> None:
    payload = '/inform{"case_number":"cs2611220007"}'
    message = pipeline.parse(payload)
    assert message.get(TEXT) == payload
    assert not message.get(ENTITIES)


@pytest.mark.parametrize(
    ("text", "expected", "secrets"),
    [
        (
            "我卡號6222 0212 3456 7890 123，機器沒激活想退押金",
            "我卡号,机器没激活想退押金",
            ("card_number",),
        ),
        ("验证码是483920 要填哪", "验证码是 要填哪", ("verification_code",)),
        ("身份证110101199003071234被冒用", "身份证被冒用", ("id_number",)),
        # Labelled serial numbers, phones and case numbers are information, not secrets.
        ("SN 8800123456789012", "SN 8800123456789012", ()),
        ("手机 138 1234 5678", "手机 13812345678", ()),
        # A bare number stays: the classifier needs some text.
        ("6222021234567890123", "6222021234567890123", ("card_number",)),
    ],
)
def test_secrets_are_cut_from_the_text_the_classifier_reads(
    normalization: TextNormalization, text: str, expected: str, secrets: tuple[str, ...]
) -> None:
    result = normalization.normalize(text)
    assert (result.text, result.secrets) == (expected, secrets)
    assert len(result.spans) == len(result.text)


def test_a_cut_secret_leaves_entity_positions_in_the_original(pipeline: CustomPipeline) -> None:
    original = "卡号6222021234567890123，手机13812345678，拉卡拉的机器"
    message = pipeline.parse(original)
    assert message.get(TEXT) == original
    by_type = {entity["entity"]: entity for entity in message.get(ENTITIES)}
    assert original[by_type["phone_number"]["start"] : by_type["phone_number"]["end"]] == (
        "13812345678"
    )
    assert original[by_type["brand"]["start"] : by_type["brand"]["end"]] == "拉卡拉"


def test_the_guard_marks_the_secrets_the_normalizer_cut(pipeline: CustomPipeline) -> None:
    output = pipeline.parse("我卡号6222021234567890123 押金怎么退").as_dict(
        only_output_properties=True
    )
    assert output[message_keys.SENSITIVE_DATA] == {"secrets": ["card_number"]}
    assert pipeline.parse("他让我报验证码，我报了483920").get(INTENT)["name"] == (
        "report_suspicious_call"
    )


def test_texts_skipped_by_the_traditional_check_convert_to_themselves() -> None:
    """The quick check must never skip a text OpenCC would change."""
    from pos_assistant.nlu.normalization import (
        _traditional_to_simplified_converter,
        characters_the_conversion_changes,
    )
    from tests.security.fuzz_messages import fuzz_messages

    changing = characters_the_conversion_changes()
    convert = _traditional_to_simplified_converter()
    traditional = ["我的機器沒激活", "押金退不了怎麼辦", "情有獨鍾", "乾燥", "著名的東西"]
    texts = [*training_and_held_out_texts(), *traditional, *fuzz_messages(1000)]
    skipped = [text for text in texts if changing.isdisjoint(text)]
    assert [text for text in skipped if convert(text) != text] == []
    assert not any(text in skipped for text in traditional)
    assert len(skipped) > len(texts) * 0.8  # most messages are Simplified: the check pays off

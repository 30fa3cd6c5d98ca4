"""SpacyBrandExtractor and the brand list it shares with the jieba dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.constants import ENTITIES

from pos_assistant.nlu.brands import DICTIONARY_PATH, load_brands
from tests.paths import PROJECT_ROOT
from tests.unit.nlu_helpers import (
    CustomPipeline,
    trained_brand_extractor,
    training_and_held_out_texts,
)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> CustomPipeline:
    return CustomPipeline(tmp_path_factory.mktemp("nlu-model"))


def brands_in(pipeline: CustomPipeline, text: str) -> list[tuple[str, str]]:
    message = pipeline.parse(text)
    return [
        (entity["value"], text[entity["start"] : entity["end"]])
        for entity in message.get(ENTITIES) or []
        if entity["entity"] == "brand"
    ]


def dictionary_words() -> set[str]:
    words: set[str] = set()
    for path in (PROJECT_ROOT / "data" / "dictionary").iterdir():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                words.add(line.split()[0])
    return words


def test_jieba_dictionary_contains_every_brand_spelling() -> None:
    words = dictionary_words()
    missing = [
        spelling for brand in load_brands() for spelling in brand.spellings if spelling not in words
    ]
    assert missing == [], (
        f"run `python -m pos_assistant.nlu.brands` to regenerate {DICTIONARY_PATH}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("有人给我寄了台拉卡拉的机器", [("拉卡拉", "拉卡拉")]),
        ("拉卡拉支付", [("拉卡拉", "拉卡拉支付")]),
        ("LAKALA的机器", [("拉卡拉", "LAKALA")]),
        ("通联", [("通联支付", "通联")]),
        ("是銀盛的", [("银盛", "銀盛")]),
        ("乐刷和随行付哪个好", [("乐刷", "乐刷"), ("随行付", "随行付")]),
    ],
)
def test_finds_brands_by_synonym_with_canonical_value(
    pipeline: CustomPipeline, text: str, expected: list[tuple[str, str]]
) -> None:
    assert brands_in(pipeline, text) == expected


def test_brand_names_inside_other_words_are_not_brands(pipeline: CustomPipeline) -> None:
    assert brands_in(pipeline, "其中付款的时候出了问题") == []


def test_entities_name_the_extractor(pipeline: CustomPipeline) -> None:
    entity = pipeline.parse("中付的机器").get(ENTITIES)[0]
    assert entity["extractor"] == "SpacyBrandExtractor"


def test_trained_pipeline_lives_in_model_storage_not_in_the_brand_file(tmp_path: Path) -> None:
    brands_file = tmp_path / "brands.yml"
    brands_file.write_text("brands:\n  - name: 测试支付\n    synonyms: [ceshipay]\n", "utf-8")
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    extractor = trained_brand_extractor(storage, brands_path=str(brands_file))
    brands_file.unlink()  # loading must not need the source file any more
    assert [e["value"] for e in extractor.extract("CeshiPay的机器")] == ["测试支付"]


def _texts_to_compare() -> list[str]:
    from tests.security.fuzz_messages import fuzz_messages

    spellings = [
        s for brand in load_brands(PROJECT_ROOT / "data" / "brands.yml") for s in brand.spellings
    ]
    variants = [
        variant
        for spelling in spellings
        for variant in (
            f"{spelling}的机器",
            spelling.upper(),
            " ".join(spelling),
            f"用的{spelling}\t吗",
        )
    ]
    return [*training_and_held_out_texts(), *variants, *fuzz_messages(300)]


def test_the_quick_brand_check_finds_exactly_what_the_ruler_finds(
    pipeline: CustomPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Skipping messages that cannot name a brand must not lose a brand the ruler would find."""
    extractor = pipeline.brands
    texts = _texts_to_compare()
    quick = [extractor.extract(text) for text in texts]
    assert sum(map(bool, quick)) > 100  # the comparison includes many brand mentions
    monkeypatch.setattr(type(extractor), "may_name_a_brand", lambda self, text: True)
    assert [extractor.extract(text) for text in texts] == quick

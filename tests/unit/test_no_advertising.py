"""No advertising from the source articles may reach a user: links, ad sites, ad phrases, brands.

Scans every response text (and button title) in domain.yml and every knowledge text.
"""

from __future__ import annotations

import re

import pytest
import yaml

from pos_assistant.knowledge import load_knowledge_base
from tests.paths import PROJECT_ROOT

URL_PATTERNS = [r"https?://", r"www\.", r"\.cn\b", r"\.com\b", r"\.net\b"]
AD_DOMAINS = ["soupos", "lovepos", "mepos", "yycgcxx"]
AD_PHRASES = [
    "点击网址",
    "申请页面进入",
    "进入申请页面",
    "免费申请",
    "办理官网",
    "官网申请",
    "免押申请",
]
# Brands the articles advertise; "推荐"/"首选"/"一般选" next to one is a recommendation.
SEED_BRANDS = ["拉卡拉", "盛付通", "乐刷", "银盛", "随行付", "中付", "汇付天下"]
RECOMMENDATION = re.compile(
    r"(推荐|首选|一般选|优选|选择)[^。！？\n]{0,12}(" + "|".join(SEED_BRANDS) + ")"
    r"|(" + "|".join(SEED_BRANDS) + r")[^。！？\n]{0,12}(最好|稳定|推荐|靠谱|官网)"
)


def domain_response_texts() -> list[str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts: list[str] = []
    for variants in (domain.get("responses") or {}).values():
        for variant in variants:
            texts.append(variant.get("text") or "")
            texts.extend(button.get("title", "") for button in variant.get("buttons") or [])
    return texts


def knowledge_texts() -> list[str]:
    return load_knowledge_base().all_texts()


def problems(text: str) -> list[str]:
    found = [p for p in URL_PATTERNS if re.search(p, text, re.IGNORECASE)]
    found += [d for d in AD_DOMAINS if d in text.lower()]
    found += [p for p in AD_PHRASES if p in text]
    if RECOMMENDATION.search(text):
        found.append("brand recommendation")
    return found


@pytest.mark.parametrize(
    "text",
    [
        "盛付通POS机办理官网,https://www.soupos.cn#pos机,点击网址进入申请页面",
        "个人POS机办理一般选盛付通拉卡拉个人pos机",
        "根据POS机网lovepos.net分析",
        "银联个人pos机免费申请",
    ],
)
def test_the_scanner_catches_the_articles_advertising(text: str) -> None:
    assert problems(text)


def test_no_advertising_in_domain_responses() -> None:
    texts = domain_response_texts()
    assert len(texts) > 10
    offenders = {text: problems(text) for text in texts if problems(text)}
    assert offenders == {}


def test_no_advertising_in_knowledge() -> None:
    texts = knowledge_texts()
    assert len(texts) > 60
    offenders = {text: problems(text) for text in texts if problems(text)}
    assert offenders == {}


def test_knowledge_names_no_brand_at_all() -> None:
    for text in knowledge_texts():
        assert not [brand for brand in SEED_BRANDS if brand in text], text

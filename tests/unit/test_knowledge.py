"""The knowledge files: they load, every item has a real source, and the content rules hold."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest
import yaml

from actions.advice_forms import read_answer
from pos_assistant.knowledge import (
    MAX_MESSAGE_CHARS,
    KnowledgeError,
    load_knowledge_base,
    render_details,
    render_faq,
    render_legal,
    render_situation,
)
from pos_assistant.knowledge.loader import FAQ_INTENTS, KNOWLEDGE_DIR
from pos_assistant.knowledge.policy import content_policy
from pos_assistant.knowledge.text_checks import find_unofficial_numbers, find_url
from pos_assistant.situations import situations
from tests.shared_documents import shared_dir_or_skip

SITUATIONS = situations().codes
OFFICIAL_NUMBERS = content_policy().phone_numbers
DOMAIN_FACTS_FILE = "domain-facts.md"  # the one source that is not a seed article
KB = load_knowledge_base()


def all_answer_combinations(slots: tuple[str, ...]) -> list[dict[str, bool]]:
    return [
        dict(zip(slots, combo, strict=True))
        for combo in itertools.product([True, False], repeat=len(slots))
    ]


def rendered_variants():
    for situation in KB.situations.values():
        for answers in all_answer_combinations(situation.question_slots):
            for render in (render_situation, render_details, render_legal):
                yield f"{situation.name}{answers}", render(situation, answers, KB.common)
    for answer in KB.faq.values():
        yield answer.intent, render_faq(answer, KB.common)


def test_every_situation_and_faq_is_covered() -> None:
    assert set(KB.situations) == set(SITUATIONS)
    assert set(KB.faq) == set(FAQ_INTENTS)
    for name in SITUATIONS:
        assert (KNOWLEDGE_DIR / f"{name}.yml").is_file()


def test_every_source_section_exists_in_its_document() -> None:
    shared_dir = shared_dir_or_skip()
    items = [i for s in KB.situations.values() for i in s.all_items()]
    items += [i for a in KB.faq.values() for i in a.all_items()]
    assert len(items) > 60
    missing = []
    for item in items:
        if item.source.file == DOMAIN_FACTS_FILE:
            document = (shared_dir / "docs" / DOMAIN_FACTS_FILE).read_text(encoding="utf-8")
            heading = f"## {item.source.section}\n"
        else:
            document = (shared_dir / "seeds" / item.source.file).read_text(encoding="utf-8")
            heading = f"\n{item.source.section}\n"
        if heading not in document:
            missing.append(f"{item.source.file}#{item.source.section}")
    assert missing == [], "cited sections not found in their documents"


# The loader itself refuses sources, laws, phone numbers and question counts outside the rules
# (tests on edited copies below); the tests here check what the loader cannot.


def test_legal_points_name_their_law() -> None:
    laws = [point.law for s in KB.situations.values() for point in s.legal]
    assert "民法典第一百四十条" in laws
    # the rendered point names the law it cites
    for situation in KB.situations.values():
        for answers in all_answer_combinations(situation.question_slots):
            text = "\n".join(m.text for m in render_legal(situation, answers, KB.common))
            for point in situation.legal:
                title = KB.common.law_titles[point.law]
                assert (title in text) is point.applies(answers), (situation.name, point.law)


def test_rendered_answers_show_only_official_phone_numbers() -> None:
    """What the user reads (items, headings and the renderer's own glue), not only the files."""
    for label, messages in rendered_variants():
        for message in messages:
            text = message.text + "".join(button.title for button in message.buttons)
            for found in re.finditer(r"(?<!\d)\d{3,}(?!\d)", text):
                after = text[found.end() : found.end() + 1]
                assert found.group() in OFFICIAL_NUMBERS or after in {"元", "年"}, (label, text)


def test_every_official_number_is_used_somewhere() -> None:
    joined = "\n".join(KB.all_texts())
    for number in OFFICIAL_NUMBERS:
        assert number in joined


@pytest.mark.parametrize("situation", SITUATIONS)
def test_each_situation_has_a_summary_steps_and_questions(situation: str) -> None:
    data = KB.situations[situation]
    assert data.summary.text and data.title
    assert data.steps and data.evidence and data.channels


def test_every_rendered_variant_fits_a_chat_bubble_and_ends_with_buttons() -> None:
    count = 0
    for label, messages in rendered_variants():
        count += 1
        assert messages, label
        for message in messages:
            assert 0 < len(message.text) <= MAX_MESSAGE_CHARS, (label, len(message.text))
            assert find_url(message.text) is None
        payloads = [button.payload for button in messages[-1].buttons]
        assert payloads[-3:] == ["/open_case", "/check_case_status", "/request_human"], label
        assert all(not m.buttons for m in messages[:-1]), label
    assert count == 3 * (4 + 4 + 2 + 4 + 2) + 3


def test_steps_are_numbered_and_follow_the_answers() -> None:
    situation = KB.situations["suspicious_call"]
    given = "\n".join(
        m.text for m in render_situation(situation, {"secret_already_given": True}, KB.common)
    )
    not_given = "\n".join(
        m.text for m in render_situation(situation, {"secret_already_given": False}, KB.common)
    )
    first_given = render_situation(situation, {"secret_already_given": True}, KB.common)[0].text
    first_not_given = render_situation(situation, {"secret_already_given": False}, KB.common)[0]
    assert "1. 马上关掉屏幕共享" in first_given and "2. 立即打110" in first_given
    assert "冻结银行卡" in first_given and "修改银行卡和支付密码" in first_given
    assert "1. 直接挂断" in first_not_given.text and "96110" in first_not_given.text
    # the victim steps are not the not-given steps (the anti-fraud core mentions both readers)
    assert "立即打110报警" in given and "立即打110报警" not in not_given


def test_unanswered_questions_leave_out_conditional_items() -> None:
    situation = KB.situations["unordered_device"]
    text = "\n".join(m.text for m in render_situation(situation, {}, KB.common))
    assert "核实来源" in text and "保留证据" in text
    assert "付过钱" not in text and "没签收就拒收" not in text  # only once answered


def test_refuse_delivery_never_claims_credit_damage_as_fact() -> None:
    for answers in all_answer_combinations(("deposit_paid",)):
        messages = render_details(KB.situations["refuse_delivery"], answers, KB.common)
        text = "\n".join(m.text for m in messages)
        assert "信用记录受损" not in text
        assert "不会因此产生征信记录" in text


def test_fee_figures_are_labelled_as_market_figures() -> None:
    text = "\n".join(m.text for m in render_faq(KB.faq["ask_fees"], KB.common))
    for figure in ("59元", "300元", "500元至1000元"):
        assert figure in text
    assert "不是任何承诺" in text and "各服务商不同" in text
    for catch in ("首刷", "押金冻结", "流量费", "服务费"):
        assert catch in text


def test_apply_and_activation_answers_carry_the_seed_content() -> None:
    apply = "\n".join(m.text for m in render_faq(KB.faq["ask_apply"], KB.common))
    assert "年满18周岁" in apply and "身份证件" in apply and "支付业务许可证" in apply
    assert "已获许可支付机构名单" in apply
    activation = "\n".join(m.text for m in render_faq(KB.faq["ask_activation"], KB.common))
    for step in ("硬件检查", "软件安装", "网络设置", "账户信息", "测试交易", "正式激活"):
        assert step in activation


@pytest.mark.parametrize(
    ("situation", "text", "expected"),
    [
        ("suspicious_call", "他打电话来，我已经把验证码给他了", {"secret_already_given": True}),
        ("suspicious_call", "我没给他验证码，直接挂了", {"secret_already_given": False}),
        # both readings in one message: safety first
        ("suspicious_call", "我没转账，但是验证码告诉他了", {"secret_already_given": True}),
        ("suspicious_call", "有个自称POS售后的人打电话给我", {"secret_already_given": None}),
        ("unordered_device", "收到一台pos机，不是货到付款", {"paid_on_delivery": False}),
        ("unordered_device", "收到一台pos机还是货到付款的", {"paid_on_delivery": True}),
        (
            "gift_not_mailed",
            "合同上写了送赠品，说好七天寄，现在都一个月了",
            {"gift_promise_in_writing": True, "gift_past_promised_date": True},
        ),
        ("refuse_delivery", "网上申请的pos不想签收，押金交了", {"deposit_paid": True}),
        ("refuse_delivery", "/ask_refuse_delivery", {"deposit_paid": None}),
    ],
)
def test_answers_read_from_the_first_message(situation: str, text: str, expected: dict) -> None:
    questions = {q.slot: q for q in KB.situations[situation].questions}
    for slot, value in expected.items():
        assert read_answer(questions[slot], text) is value


# --- the loader refuses bad files -------------------------------------------------------------


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def edit_first_step(directory: Path, **changes: object) -> None:
    path = directory / "gift_not_mailed.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["steps"][0].update(changes)
    for key, value in list(data["steps"][0].items()):
        if value is None:
            del data["steps"][0][key]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": None}, "source"),
        ({"source": "somewhere.txt#小节"}, "not a seed article"),
        ({"text": "详情见 www.example.cn 页面"}, "links"),
        ({"text": "请拨打4008001234咨询"}, "110/96110/12363/12315"),
        ({"when": {"unknown_slot": True}}, "not one of this file's questions"),
    ],
)
def test_loader_refuses_bad_items(knowledge_copy: Path, changes: dict, message: str) -> None:
    edit_first_step(knowledge_copy, **changes)
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        load_knowledge_base(knowledge_copy)


def test_loader_refuses_a_third_question(knowledge_copy: Path) -> None:
    path = knowledge_copy / "gift_not_mailed.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["questions"].append(dict(data["questions"][0], slot="gift_third_question"))
    assert len(data["questions"]) == 3
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="one or two follow-up questions"):
        load_knowledge_base(knowledge_copy)


def test_loader_refuses_unknown_legal_points(knowledge_copy: Path) -> None:
    path = knowledge_copy / "unordered_device.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("law: 民法典第一百四十条", "law: 合同法第一条"),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match="allowed legal points"):
        load_knowledge_base(knowledge_copy)


def test_loader_refuses_unknown_channels(knowledge_copy: Path) -> None:
    path = knowledge_copy / "refuse_delivery.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "channel: market_12315", "channel: company_hotline"
        ),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match="allowed official channel"):
        load_knowledge_base(knowledge_copy)


def test_loader_names_a_missing_file(knowledge_copy: Path) -> None:
    (knowledge_copy / "faq.yml").unlink()
    with pytest.raises(KnowledgeError, match=re.escape("faq.yml")):
        load_knowledge_base(knowledge_copy)


def test_text_checks() -> None:
    assert find_url("点这里 https://x.y") and find_url("soupos.cn") and find_url("www.abc")
    assert find_url("请拨打12315投诉") is None
    assert find_unofficial_numbers("押金59元，智能POS约500元，2024年起施行，拨打96110") == []
    assert find_unofficial_numbers("客服电话95016") == ["95016"]


def test_activation_steps_are_numbered_in_order() -> None:
    text = render_faq(KB.faq["ask_activation"], KB.common)[0].text
    assert "1. 硬件检查" in text and "6. 正式激活" in text
    fees = render_faq(KB.faq["ask_fees"], KB.common)[0].text
    assert "· 电签机" in fees  # sections without `numbered: true` are bullets

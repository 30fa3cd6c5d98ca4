"""The advice rules a support lead relies on, over every situation × every answer combination.

- Anti-fraud core (no codes/passwords/card numbers, no transfers, hang up, 96110, 110, freeze the
  card) in every answer where money or a deposit is involved, on every branch.
- Victim steps in safe order wherever they are given: stop screen sharing and uninstall the app,
  then 110, then freeze the card, then change passwords.
- The first scam reply (utter_scam_warning) has 110, 96110 and "don't give, hang up" — also as
  WeChat shows it, before the question.
- Phone-sized: two bubbles; the first holds the summary and the numbered steps, under 300 chars;
  details and law only on request (详细说明 / 法律依据 quick replies, numbered options on WeChat).
- Law in summary (大意) with when it helps and its caveats; no brands, no ads, plain words.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from pos_assistant.channels.wechat_replies import MAX_REPLY_BYTES, render_replies
from pos_assistant.channels.wechat_texts import default_texts
from pos_assistant.knowledge import (
    FIRST_BUBBLE_CHARS,
    MAX_MESSAGE_CHARS,
    load_knowledge_base,
    render_details,
    render_faq,
    render_legal,
    render_situation,
)
from pos_assistant.knowledge.models import Situation
from pos_assistant.knowledge.renderer import RenderedMessage
from tests.paths import PROJECT_ROOT

KB = load_knowledge_base()
DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPONSES = DOMAIN["responses"]
NEXT_ACTIONS = ["/open_case", "/check_case_status", "/request_human"]
DETAILS, LEGAL = "/ask_advice_details", "/ask_advice_legal"

# What the anti-fraud core must say, each as words a reader sees.
ANTI_FRAUD_CORE = ("验证码", "密码", "卡号", "转账", "挂断", "96110", "110", "冻结")
# Brands: every name and synonym in data/brands.yml, plus those the seed articles advertise.
_BRANDS_FILE = yaml.safe_load((PROJECT_ROOT / "data" / "brands.yml").read_text(encoding="utf-8"))
BRANDS = sorted(
    {b["name"] for b in _BRANDS_FILE["brands"]}
    | {s for b in _BRANDS_FILE["brands"] for s in b.get("synonyms") or []}
    | {"拉卡拉", "盛付通", "京东白条"}
)
ADVERTISING = re.compile(
    r"soupos|lovepos|mepos|yycgcxx|https?://|www\.|\.(?:cn|com|net)\b|点击网址|申请页面|免费申请"
    r"|办理官网|免押申请|推荐|首选",
    re.IGNORECASE,
)
# Jargon that must not reach a user unexplained: allowed only as "plain words（术语）".
JARGON = ("意思表示", "收单", "商户", "机身号")
_LAW_NAME = re.compile(r"《[^》]*》")


def combinations(situation: Situation) -> list[dict[str, bool]]:
    slots = situation.question_slots
    return [
        dict(zip(slots, values, strict=True))
        for values in itertools.product([True, False], repeat=len(slots))
    ]


def every_answer() -> Iterator[tuple[str, Situation, dict[str, bool]]]:
    for situation in KB.situations.values():
        for answers in combinations(situation):
            yield f"{situation.name}{answers}", situation, answers


ALL_ANSWERS = list(every_answer())
IDS = [label for label, _, _ in ALL_ANSWERS]


def joined(messages: list[RenderedMessage]) -> str:
    return "\n".join(message.text for message in messages)


def victim_order_problem(text: str) -> str | None:
    """Why `text` gives the victim steps in an unsafe order (None when fine or not given)."""
    # "您已经报了警。" / "您已经冻结了银行卡。": steps the user took, not instructions; the reminder
    # then names only the steps left, in the same order.
    taken = "".join(re.findall(r"您已经([^。]*)。", text))
    text = re.sub(r"您已经[^。]*。", "", text)
    if "冻结" not in text:
        return None
    freeze = text.index("冻结")
    police = text.rfind("110", 0, freeze)
    if police == -1 and "报了警" in taken:
        police = freeze
    if police == -1:
        return "110 must come before freezing the card"
    for first in ("共享", "卸载"):
        at = text.find(first)
        if at == -1 or at > police:
            return f"{first} must come before 110"
    password = re.search(r"改[^。；]{0,8}密码|修改[^。；]{0,12}密码", text)
    if password and password.start() < freeze:
        return "passwords are changed only after the card is frozen"
    return None


# --- the anti-fraud core -------------------------------------------------------------------------


def test_every_situation_involves_money_or_says_why_not() -> None:
    # All five situations are about a device, a deposit or a fee: each carries the core.
    assert all(situation.money_involved for situation in KB.situations.values())


def test_the_core_text_itself_holds_every_point() -> None:
    for word in ANTI_FRAUD_CORE:
        assert word in KB.common.anti_fraud_core, word
    assert victim_order_problem(KB.common.anti_fraud_core) is None


@pytest.mark.parametrize(("label", "situation", "answers"), ALL_ANSWERS, ids=IDS)
def test_anti_fraud_core_in_every_money_answer(
    label: str, situation: Situation, answers: dict[str, bool]
) -> None:
    text = joined(render_situation(situation, answers, KB.common))
    if situation.money_involved:
        missing = [word for word in ANTI_FRAUD_CORE if word not in text]
        assert missing == [], label


# --- victim steps in safe order ------------------------------------------------------------------


@pytest.mark.parametrize(("label", "situation", "answers"), ALL_ANSWERS, ids=IDS)
def test_victim_steps_in_safe_order_everywhere(
    label: str, situation: Situation, answers: dict[str, bool]
) -> None:
    for render in (render_situation, render_details, render_legal):
        for message in render(situation, answers, KB.common):
            assert victim_order_problem(message.text) is None, (label, message.text)


def test_victim_steps_in_safe_order_in_every_domain_response() -> None:
    for name, variants in RESPONSES.items():
        for variant in variants:
            assert victim_order_problem(variant.get("text") or "") is None, name


def test_the_order_check_catches_the_old_wrong_order() -> None:
    old = "1. 立即拨打110报警。2. 联系发卡银行冻结银行卡、修改密码。3. 卸载App，关闭屏幕共享。"
    assert victim_order_problem(old)


def test_suspicious_call_victim_steps_are_numbered_in_order() -> None:
    situation = KB.situations["suspicious_call"]
    steps = render_situation(situation, {"secret_already_given": True}, KB.common)[0].text
    expected = ["1. 马上关掉屏幕共享", "2. 立即打110", "3. 打银行卡背面", "4. 用没装过对方App"]
    positions = [steps.index(step) for step in expected]
    assert positions == sorted(positions)


# --- the first reply to a scam message -----------------------------------------------------------


def test_scam_warning_has_110_96110_and_the_core() -> None:
    text = RESPONSES["utter_scam_warning"][0]["text"]
    for word in ("110", "96110", "不要给", "挂断", "验证码", "密码", "卡号", "转账", "冻结"):
        assert word in text, word
    assert victim_order_problem(text) is None


def test_right_after_the_warning_the_answer_does_not_repeat_the_core() -> None:
    situation = KB.situations["suspicious_call"]
    for answers in combinations(situation):
        short = render_situation(situation, answers, KB.common, include_core=False)
        assert len(short) == 2 and KB.common.anti_fraud_core not in joined(short)
        # ...because the warning sent just before holds every point of it
        warning = RESPONSES["utter_scam_warning"][0]["text"]
        assert [word for word in ANTI_FRAUD_CORE if word not in warning] == []


def test_on_wechat_the_scam_warning_comes_first_and_whole() -> None:
    # What the channel sends for the first scam message: the warning, then the question.
    turn = [RESPONSES["utter_scam_warning"][0], RESPONSES["utter_ask_secret_already_given"][0]]
    reply = render_replies(turn, default_texts())
    first = reply.parts[0]
    for word in ("110", "96110", "挂断"):
        assert first.index(word) < first.index("请确认一下"), word
    assert [option.payload for option in reply.options] == ["/affirm", "/deny"]


# --- phone-sized answers -------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "situation", "answers"), ALL_ANSWERS, ids=IDS)
def test_first_bubble_holds_summary_and_steps_and_fits_a_phone(
    label: str, situation: Situation, answers: dict[str, bool]
) -> None:
    messages = render_situation(situation, answers, KB.common)
    assert len(messages) <= 2, label
    first = messages[0].text
    assert len(first) < FIRST_BUBBLE_CHARS, (label, len(first))
    assert first.startswith(f"【{situation.title}】{situation.summary.text}\n1. "), label
    for step in (item for item in situation.steps if item.applies(answers)):
        assert step.text in first, (label, step.text)
    assert not messages[0].buttons
    # causes, evidence lists and law wait for the quick replies
    for heading in ("causes", "evidence", "legal", "channels"):
        assert KB.common.headings[heading] not in joined(messages), (label, heading)


@pytest.mark.parametrize(("label", "situation", "answers"), ALL_ANSWERS, ids=IDS)
def test_details_and_law_come_as_quick_replies(
    label: str, situation: Situation, answers: dict[str, bool]
) -> None:
    messages = render_situation(situation, answers, KB.common)
    payloads = [button.payload for button in messages[-1].buttons]
    has_law = any(point.applies(answers) for point in situation.legal)
    assert payloads == [DETAILS, *([LEGAL] if has_law else []), *NEXT_ACTIONS], label
    details = render_details(situation, answers, KB.common)
    assert len(details) <= 2 and all(len(m.text) <= MAX_MESSAGE_CHARS for m in details), label
    assert KB.common.headings["evidence"] in joined(details)
    assert KB.common.headings["channels"] in joined(details)


@pytest.mark.parametrize(("label", "situation", "answers"), ALL_ANSWERS, ids=IDS)
def test_a_whole_answer_is_one_wechat_message_with_numbered_options(
    label: str, situation: Situation, answers: dict[str, bool]
) -> None:
    messages = [
        {"text": m.text, "buttons": [{"title": b.title, "payload": b.payload} for b in m.buttons]}
        for m in render_situation(situation, answers, KB.common)
    ]
    reply = render_replies(messages, default_texts())
    assert len(reply.parts) == 1, (label, len(reply.parts[0].encode()))
    assert len(reply.parts[0].encode("utf-8")) <= MAX_REPLY_BYTES
    assert "1. 详细说明" in reply.parts[0]
    assert reply.options[0].payload == DETAILS


def test_one_line_says_which_office_handles_what() -> None:
    line = KB.common.offices
    assert "\n" not in line
    for office, topic in (
        ("12315", "商家"),
        ("12363", "支付机构"),
        ("96110", "诈骗"),
        ("110", "被骗"),
    ):
        assert office in line and topic in line
    assert line.index("商家") < line.index("12315") < line.index("支付机构") < line.index("12363")
    for _, situation, answers in ALL_ANSWERS:
        assert line in joined(render_situation(situation, answers, KB.common))


# --- law: summaries with caveats -----------------------------------------------------------------


@pytest.mark.parametrize(("label", "situation", "answers"), ALL_ANSWERS, ids=IDS)
def test_every_legal_point_is_a_labelled_summary_with_caveats(
    label: str, situation: Situation, answers: dict[str, bool]
) -> None:
    text = joined(render_legal(situation, answers, KB.common))
    points = [point for point in situation.legal if point.applies(answers)]
    assert text.count("（大意）：") == len(points), label
    assert text.count("注意：") == len(points) and text.count("什么时候有用：") == len(points)
    assert not re.search(r"第[一二三四五六七八九十百]+条：", text), "a summary shown as a quotation"


def test_article_55_only_with_its_caveats() -> None:
    for situation in KB.situations.values():
        for point in situation.legal:
            if point.law == "消费者权益保护法第五十五条":
                assert situation.name == "gift_not_mailed"
                assert "增加赔偿" in point.text and "三倍" in point.text and "500元" in point.text
                assert "违约" in point.caveat and "不是欺诈" in point.caveat
                assert "消费者" in point.caveat and "法院" in point.caveat


def test_article_25_only_with_its_caveats() -> None:
    points = [
        p for s in KB.situations.values() for p in s.legal if p.law == "消费者权益保护法第二十五条"
    ]
    assert points
    for point in points:
        assert "确认不宜退货" in point.caveat and "消费者" in point.caveat
        assert "协议" in point.caveat  # a "free" or deposit-only terminal may not be a sale


def test_pipl_article_28_is_not_stretched_to_all_identity_information() -> None:
    for situation in KB.situations.values():
        for point in situation.legal:
            if point.law == "个人信息保护法第二十八条":
                assert "身份信息属于" not in point.text and "特定身份" in point.text
                assert "不是这条法律的原文" in point.caveat


# --- seed steps that were missing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("situation", "words", "source_file"),
    [
        ("unordered_device", "律师", "000_a7345d980a8c1dd8.txt"),
        ("no_activation_refund", "财务顾问", "003_dd603d883b5f9a20.txt"),
        ("unordered_device", "已获许可支付机构名单", "domain-facts.md"),
        ("suspicious_call", "已获许可支付机构名单", "domain-facts.md"),
    ],
)
def test_seed_steps_are_in_the_details(situation: str, words: str, source_file: str) -> None:
    data = KB.situations[situation]
    items = [item for item in data.more_steps if words in item.text]
    assert items and items[0].source.file == source_file
    for answers in combinations(data):
        assert words in joined(render_details(data, answers, KB.common))


# --- no brands, no ads, plain words --------------------------------------------------------------


def every_user_text() -> Iterator[tuple[str, str]]:
    for label, situation, answers in ALL_ANSWERS:
        for render in (render_situation, render_details, render_legal):
            for message in render(situation, answers, KB.common):
                yield label, message.text
                for button in message.buttons:
                    yield label, button.title
    for answer in KB.faq.values():
        for message in render_faq(answer, KB.common):
            yield answer.intent, message.text
    for name, variants in RESPONSES.items():
        for variant in variants:
            yield name, variant.get("text") or ""
            for button in variant.get("buttons") or []:
                yield name, button.get("title", "")


def test_no_brand_names_anywhere() -> None:
    assert "拉卡拉" in BRANDS and len(BRANDS) > 20
    found = [
        (label, brand)
        for label, text in every_user_text()
        for brand in BRANDS
        if brand.lower() in text.lower()
    ]
    assert found == []


def test_no_advertising_anywhere() -> None:
    found = [(label, text) for label, text in every_user_text() if ADVERTISING.search(text)]
    assert found == []


def advice_texts() -> Iterator[tuple[str, str]]:
    for label, text in every_user_text():
        if not label.startswith("utter_") or label in {"utter_scam_warning"}:
            yield label, text


def test_no_unexplained_jargon_in_advice() -> None:
    for label, text in advice_texts():
        text = _LAW_NAME.sub("", text)
        for word in JARGON:
            assert text.count(word) == text.count(f"（{word}）"), (label, word, text)


def test_the_privacy_notice_does_not_claim_id_numbers_are_never_needed() -> None:
    text = RESPONSES["utter_sensitive_data_notice"][0]["text"]
    assert "不要在对话里发送银行卡号、密码或验证码" in text
    sentence = text.split("。")[0]
    assert "身份证号" not in sentence

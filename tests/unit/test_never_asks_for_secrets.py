"""The assistant never asks for a password, an SMS/verification code or a card number.

Scans every text a user can receive: each response variant and button title in domain.yml, the
channel texts in data/channels/, and every rendered knowledge answer (every combination of
answers to the follow-up questions, and every FAQ). Warnings that name these secrets ("请不要
发送银行卡号", "索要验证码的都是诈骗") are allowed; a request for one is not.
"""

from __future__ import annotations

import itertools
import re

import pytest
import yaml

from pos_assistant.knowledge import load_knowledge_base, render_faq, render_situation
from tests.paths import PROJECT_ROOT

SECRET = r"(密码|口令|验证码|校验码|动态码|短信码|银行卡号|卡号|身份证号|CVV|安全码|卡背|有效期)"
_CLAUSE = r"[^。！？!?\n]"
# A request to the user: "请/麻烦(您)提供/告诉/发/输入… <secret>" or "<secret> 发给我/告诉我".
ASKING = re.compile(
    rf"(请|麻烦|需要)(您|你)?(先)?(提供|告诉|发送|发一下|发下|发给|发来|输入|回复|填写|报一下|报下|说一下)"
    rf"{_CLAUSE}{{0,14}}{SECRET}"
    rf"|{SECRET}{_CLAUSE}{{0,8}}(发给我|告诉我|发我|报给我|发过来|回复给我|给我们)",
    re.IGNORECASE,
)


# "身份证号也不用发给我" tells the user not to send it: a negation inside the match is no request.
NEGATION = re.compile(r"不用|不要|不必|无需|别|勿|不会")


def asks_for_a_secret(text: str) -> bool:
    return any(not NEGATION.search(match.group(0)) for match in ASKING.finditer(text))


@pytest.mark.parametrize(
    "text",
    [
        "请提供您的银行卡号",
        "请告诉我您收到的短信验证码",
        "麻烦发一下手机上收到的验证码，我帮您核实",
        "请输入您的密码",
        "为了核实身份，请您回复卡号全部数字",
        "把验证码发给我就能退押金",
        "需要您提供卡背后三位CVV",
    ],
)
def test_the_scanner_catches_a_request(text: str) -> None:
    assert asks_for_a_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        "请不要在对话里发送银行卡号、身份证号、密码或验证码",
        "我们不会索要密码、验证码或银行卡号。",
        "凡是自称客服的人索要验证码、密码、银行卡号，都是诈骗",
        "您是否已经把验证码、卡号或密码告诉了对方？",
        "请回复登记工单时所留手机号的后4位。",
        "身份证号也不用发给我；只有您自己通过官方渠道办理时才按需提供",
    ],
)
def test_the_scanner_lets_warnings_pass(text: str) -> None:
    assert not asks_for_a_secret(text)


def domain_texts() -> dict[str, str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts = {}
    for name, variants in (domain.get("responses") or {}).items():
        for index, variant in enumerate(variants):
            texts[f"{name}[{index}]"] = variant.get("text") or ""
            for button in variant.get("buttons") or []:
                texts[f"{name}[{index}] button"] = button.get("title", "")
    return texts


def channel_texts() -> dict[str, str]:
    texts = {}
    for path in sorted((PROJECT_ROOT / "data" / "channels").glob("*.yml")):
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if isinstance(value, str):
                texts[f"{path.name}:{key}"] = value
    return texts


def rendered_knowledge_texts() -> dict[str, str]:
    kb = load_knowledge_base()
    texts = {}
    for situation in kb.situations.values():
        slots = situation.question_slots
        for combo in itertools.product([True, False, None], repeat=len(slots)):
            answers = dict(zip(slots, combo, strict=True))
            messages = render_situation(situation, answers, kb.common)
            texts[f"{situation.name}{answers}"] = "\n".join(
                [m.text for m in messages] + [b.title for m in messages for b in m.buttons]
            )
    for answer in kb.faq.values():
        messages = render_faq(answer, kb.common)
        texts[answer.intent] = "\n".join(m.text for m in messages)
    return texts


@pytest.mark.parametrize(
    "source", [domain_texts, channel_texts, rendered_knowledge_texts], ids=lambda f: f.__name__
)
def test_nothing_a_user_reads_asks_for_a_secret(source) -> None:
    texts = source()
    assert len(texts) > 3
    offenders = {where: text for where, text in texts.items() if asks_for_a_secret(text)}
    assert offenders == {}

"""The dialogue test set (tests/dialogue) through the real servers, with floors; and the memory,
follow-up and emotion behaviour over WeChat.

Floors sit just under the last measured figures (`make eval-dialogue`, README): a regression in
whole conversations fails `make test`.
"""

from __future__ import annotations

import itertools
import time

import pytest
import yaml

from scripts.eval_dialogue import KINDS, format_table, load_conversations, run_set
from tests.e2e.stack import PROJECT_ROOT, RasaStack
from tests.fakes.wechat_server import post_signed, reply_fields, text_message

pytestmark = pytest.mark.e2e

# Floors: the targets (95 % of turns and 85 % of whole conversations right), and 85 % for every
# kind; measured on 2026-12-02 (`make eval-dialogue`, results/dialogue_eval.json): 311/312 turns
# (0.997), 133/134 conversations (0.992); two questions 12/13 and follow-ups 32/33 (the same
# conversation), every other kind all right.
TURN_FLOOR = 0.95
CONVERSATION_FLOOR = 0.85
KIND_CONVERSATION_FLOORS: dict[str, float] = {kind: 0.85 for kind in KINDS}

_msg_ids = itertools.count(int(time.time() * 1000) + 900_000)


def test_the_dialogue_set_meets_its_floors(rasa_stack: RasaStack) -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    summary = run_set(rasa_stack.send, load_conversations(), domain)
    print(format_table(summary))
    failed = [
        f"{c['id']} turn {t['turn']}: {'; '.join(t['problems'])}"
        for c in summary["failures"]
        for t in c["turns"]
        if not t["ok"]
    ]
    assert summary["turns_right"] >= TURN_FLOOR, failed
    assert summary["conversations_right"] >= CONVERSATION_FLOOR, failed
    for kind, floor in KIND_CONVERSATION_FLOORS.items():
        assert summary["by_kind"][kind]["conversations_right"] >= floor, (kind, failed)


def test_the_set_covers_the_kinds_it_is_about() -> None:
    conversations = load_conversations()
    assert len(conversations) >= 120
    counts = {kind: sum(kind in c.kinds for c in conversations) for kind in KINDS}
    for kind in KINDS:
        assert counts[kind] >= 8, counts


def wechat(stack: RasaStack, openid: str, content: str) -> str:
    answer = post_signed(
        stack.rasa_url, stack.env["WECHAT_TOKEN"], text_message(openid, content, next(_msg_ids))
    )
    assert answer.status_code == 200, answer.text
    return reply_fields(answer.text)["Content"]


def test_wechat_a_victim_keeps_110_and_the_freeze(rasa_stack: RasaStack, sender: str) -> None:
    openid = f"o-{sender}"
    first = wechat(rasa_stack, openid, "自称POS售后的人让我报验证码，我已经报给他了")
    assert "立即打110报警" in first
    later = wechat(rasa_stack, openid, "挂了，现在打110，然后呢")
    assert later.index("屏幕共享") < later.index("110") < later.index("冻结银行卡"), later


def test_wechat_a_refund_fee_is_a_scam_warning(rasa_stack: RasaStack, sender: str) -> None:
    content = wechat(rasa_stack, f"o-{sender}", "卖家说退押金得先交50手续费")
    assert content.startswith("【安全提醒】"), content


def test_wechat_emoji_alone_get_a_gentle_question(rasa_stack: RasaStack, sender: str) -> None:
    assert "能说说发生了什么吗" in wechat(rasa_stack, f"o-{sender}", "😭😭")

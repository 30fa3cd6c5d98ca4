"""Follow-up questions in context, the full steps again, the short version, emoji and dialect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionClarify, ActionOutOfScope
from actions.follow_ups import (
    ActionAdviceRepeat,
    ActionAdviceShorter,
    ActionAnswerFollowUp,
)
from actions.knowledge_replies import follow_up_topic
from pos_assistant.knowledge import KnowledgeError, get_knowledge_base, load_knowledge_base
from pos_assistant.knowledge.loader import KNOWLEDGE_DIR
from pos_assistant.nlu.normalization import TextNormalization
from pos_assistant.nlu.safety_guard import scam_topics
from tests.paths import PROJECT_ROOT
from tests.unit.test_advice_actions import DOMAIN
from tests.unit.trackers import build_tracker, parse_data

ACTIVATION_GUIDE = get_knowledge_base().faq["ask_activation"].title


def tracker(text: str, intent: str = "ask_follow_up", slots: dict[str, Any] | None = None):
    return build_tracker(text, slots=slots, message=parse_data(text, intent, confidence=0.9))


async def reply(action: Any, text: str, intent: str = "ask_follow_up", **slots: Any) -> list:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tracker(text, intent, slots), DOMAIN)
    return dispatcher.messages


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("会不会扣钱", "charged"),
        ("要不要交那50", "pay_fee"),
        ("怎么寄回去", "return_device"),
        ("how do I return it", "return_device"),
        ("客服电话多少", "phone_number"),
        ("打哪个电话", "phone_number"),
        ("多久能处理好", "how_long"),
        ("你能帮我报警吗", "call_police"),
        ("商家不理我怎么办", "seller_ignores"),
        ("卡已经冻结了", "what_next"),  # a victim's step done: what comes next
        ("报完警了", "what_next"),
        ("现在怎么办", "what_next"),
        ("商家不理我该怎么办", "seller_ignores"),  # the more specific topic comes first
        ("还没报警 我有点怕", "afraid_to_report"),
        ("他还让我转了2000", "money_sent"),
        ("I transferred 500 to him", "money_sent"),
        ("转了钱 现在怎么办", "money_sent"),  # the money first: it says what to keep
        ("今天天气怎么样", None),
    ],
)
def test_the_topic_is_read_from_the_words(text: str, topic: str | None) -> None:
    assert follow_up_topic(get_knowledge_base(), text) == topic


async def test_the_situation_answers_first_and_return_never_gets_the_activation_guide() -> None:
    own = get_knowledge_base().situations["no_activation_refund"].follow_up("return_device")
    messages = await reply(
        ActionAnswerFollowUp(), "how do I return it", situation="no_activation_refund"
    )
    assert [m["text"] for m in messages] == [own.text]
    assert "激活步骤" not in own.text and ACTIVATION_GUIDE not in own.text
    general = await reply(ActionAnswerFollowUp(), "怎么寄回去")  # nothing advised yet
    assert "官方" in general[0]["text"] and "激活" not in general[0]["text"]


async def test_a_fee_follow_up_warns_and_the_police_one_names_110() -> None:
    fee = await reply(ActionAnswerFollowUp(), "要不要交那50", situation="no_activation_refund")
    assert fee[0]["text"].startswith("不要交") and "96110" in fee[0]["text"]
    police = await reply(ActionAnswerFollowUp(), "你能帮我报警吗", situation="suspicious_call")
    assert "不能替您报警" in police[0]["text"] and "110" in police[0]["text"]


async def test_an_unknown_follow_up_asks_which_point() -> None:
    messages = await reply(ActionAnswerFollowUp(), "那个呢")
    assert [m["response"] for m in messages] == ["utter_follow_up_unknown"]


async def test_a_missed_follow_up_is_answered_in_context_not_out_of_scope() -> None:
    messages = await reply(
        ActionOutOfScope(), "怎么寄回去", intent="out_of_scope", situation="unordered_device"
    )
    own = get_knowledge_base().situations["unordered_device"].follow_up("return_device")
    assert [m["text"] for m in messages] == [own.text]


@pytest.mark.parametrize("action", [ActionOutOfScope(), ActionClarify()])
async def test_emoji_or_punctuation_alone_get_a_gentle_question(action: Any) -> None:
    calm = await reply(action, "😭😭", intent="out_of_scope")
    assert [m["response"] for m in calm] == ["utter_ask_what_happened"]
    angry = await reply(action, "😡😡😡", intent="out_of_scope")
    assert [m["response"] for m in angry] == ["utter_ask_what_happened", "utter_offer_human"]
    punctuation = await reply(action, "？？？", intent="nlu_fallback")
    assert punctuation[0]["response"] == "utter_ask_what_happened"


async def test_shorter_is_three_lines_with_the_victim_steps_first() -> None:
    messages = await reply(
        ActionAdviceShorter(),
        "字太多了",
        "ask_shorter",
        situation="suspicious_call",
        secret_already_given=True,
    )
    lines = messages[0]["text"].split("\n")
    assert len(lines) == 3 and all(len(line) <= 44 for line in lines)
    assert "屏幕共享" in lines[0] and "110" in lines[1] and "冻结" in lines[2]
    nothing = await reply(ActionAdviceShorter(), "简单点", "ask_shorter")
    assert nothing[0]["response"] == "utter_shorter_no_situation"


async def test_repeat_sends_the_full_answer() -> None:
    messages = await reply(
        ActionAdviceRepeat(),
        "再看一遍",
        "ask_advice_repeat",
        situation="refuse_delivery",
        deposit_paid=False,
    )
    assert len(messages) == 2 and "\n1. " in messages[0]["text"]


@pytest.mark.parametrize(
    "text",
    [
        "卖家说退押金得先交50手续费",
        "让我转到他私人微信",
        "退款前要先交保证金",
        "押金怎么退？另外有人打电话让我交50手续费才能退",
        "the seller wants a fee before the refund",
    ],
)
def test_a_fee_before_a_refund_or_a_private_account_is_a_scam(text: str) -> None:
    assert scam_topics(text)


@pytest.mark.parametrize("text", ["押金能不能不交", "手续费怎么算的", "押金多久能退", "怎么寄回去"])
def test_ordinary_fee_and_refund_questions_are_not(text: str) -> None:
    assert scam_topics(text) == []


def normalized(text: str) -> str:
    table = yaml.safe_load((PROJECT_ROOT / "data" / "normalization.yml").read_text("utf-8"))
    return TextNormalization(table["replacements"]).normalize(text).text


@pytest.mark.parametrize(
    ("cantonese", "mandarin"),
    [
        ("佢話俾咗按金唔退，點解？", "他说给了押金不退,为什么?"),
        ("我係收到一部冇訂過嘅POS機", "我是收到一部没有订过的POS机"),
        ("邊個打電話嚟要驗證碼", "谁打电话来要验证码"),
        ("我想搵人退按金", "我想找人退押金"),
        ("啲嘢我唔識用，點樣激活呀", "些东西我不会用,怎么样激活呀"),
        ("佢哋寄咗部機俾我，我冇申請過乜嘢", "他们寄了部机给我,我没有申请过什么"),
        ("嗰部機幾多錢？仲未退", "那部机多少钱?还没退"),
        ("呢部機使唔使交錢", "这台机要不要交钱"),
        # Mandarin that shares characters with Cantonese stays as it is.
        ("一点用都没有，快点做", "一点用都没有,快点做"),
    ],
)
def test_common_cantonese_is_read_as_mandarin(cantonese: str, mandarin: str) -> None:
    assert normalized(cantonese) == mandarin


def test_emoji_beside_words_are_dropped_and_alone_they_stay() -> None:
    assert normalized("押金😭😭 退不了") == "押金  退不了"
    assert normalized("😡😡😡") == "😡😡😡"


def test_the_loader_refuses_a_follow_up_with_an_unknown_topic(tmp_path: Path) -> None:
    for file in KNOWLEDGE_DIR.glob("*.yml"):
        (tmp_path / file.name).write_text(file.read_text("utf-8"), "utf-8")
    path = tmp_path / "gift_not_mailed.yml"
    path.write_text(path.read_text("utf-8").replace("topic: seller_ignores", "topic: weather"))
    with pytest.raises(KnowledgeError, match="weather"):
        load_knowledge_base(tmp_path)


def test_the_loader_refuses_an_unofficial_number_in_a_follow_up(tmp_path: Path) -> None:
    for file in KNOWLEDGE_DIR.glob("*.yml"):
        (tmp_path / file.name).write_text(file.read_text("utf-8"), "utf-8")
    path = tmp_path / "follow_ups.yml"
    path.write_text(path.read_text("utf-8").replace("打12315投诉", "打95188投诉", 1))
    with pytest.raises(KnowledgeError, match="95188"):
        load_knowledge_base(tmp_path)


def test_money_already_sent_to_the_caller_is_a_scam() -> None:
    assert scam_topics("对方说要付钱才能退，我已经转了500给他") == ["money_sent_to_caller"]


async def test_money_sent_outside_the_scam_story_has_110_and_inside_it_keeps_the_records() -> None:
    # Inside the scam story the victim reminder (110, the freeze) comes just before this answer.
    scam = await reply(ActionAnswerFollowUp(), "他还让我转了2000", situation="suspicious_call")
    assert "转账记录" in scam[0]["text"] and "不要再给对方转" in scam[0]["text"]
    general = await reply(ActionAnswerFollowUp(), "我转了300给业务员")
    assert "110" in general[0]["text"] and "冻结银行卡" in general[0]["text"]

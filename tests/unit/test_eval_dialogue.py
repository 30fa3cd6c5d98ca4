"""The dialogue evaluation: must, must_not, must_not_ask, shares by kind, the set format."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.eval_dialogue import (
    DialogueSetError,
    Turn,
    check_turn,
    load_conversations,
    run_set,
)

DOMAIN = {"responses": {"utter_ask_deposit_paid": [{"text": "申请时您交过押金吗？"}]}}


def test_a_turn_is_right_only_when_every_condition_holds() -> None:
    turn = Turn(
        user="x",
        must=["110", ["冻结", "freeze"]],
        must_not=["帮不上忙"],
        must_not_ask=["deposit_paid"],
    )
    assert check_turn(turn, "打110，冻结银行卡", DOMAIN) == []
    assert check_turn(turn, "打110", DOMAIN) == ["missing '冻结 | freeze'"]
    assert check_turn(turn, "110 freeze 帮不上忙", DOMAIN) == ["has '帮不上忙'"]
    asked = check_turn(turn, "110 冻结 申请时您交过押金吗？", DOMAIN)
    assert asked == ["asked deposit_paid again"]


def test_shares_by_kind_and_whole_conversations(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "- id: one\n  persona: p\n  kinds: [follow_up]\n  turns:\n"
        "    - user: hi\n      must: [ok]\n    - user: again\n      must: [ok]\n",
        encoding="utf-8",
    )
    conversations = load_conversations(tmp_path)
    replies = iter([[{"text": "ok"}], [{"text": "no"}]])
    summary = run_set(lambda sender, text: next(replies), conversations, DOMAIN)
    assert summary["turns_right"] == 0.5 and summary["conversations_right"] == 0.0
    assert summary["by_kind"]["follow_up"]["turns"] == 2
    assert summary["by_kind"]["handoff"]["conversations_right"] is None


def test_a_malformed_conversation_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "- persona: p\n  kinds: [weather]\n  turns: [{user: hi}]\n", encoding="utf-8"
    )
    with pytest.raises(DialogueSetError, match=r"bad\.yml"):
        load_conversations(tmp_path)


def test_the_committed_set_loads_and_names_real_questions() -> None:
    import yaml

    from scripts.eval_dialogue import PROJECT_ROOT, question_texts

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    conversations = load_conversations()
    assert len(conversations) >= 40
    for conversation in conversations:
        for turn in conversation.turns:
            for name in turn.must_not_ask:
                assert question_texts(domain, name)

"""The evidence checklist in a photo receipt: which situation's advice the conversation is in,
what the checklist asks for given the answers and the IDs typed, and how the photos count."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest
import yaml

from pos_assistant.attachments.evidence import AdviceState, advice_state, evidence_text
from pos_assistant.attachments.inbox import Receipt
from pos_assistant.attachments.texts import photo_texts, receipt_text
from pos_assistant.knowledge import KnowledgeError, get_knowledge_base, load_knowledge_base
from pos_assistant.knowledge.loader import KNOWLEDGE_DIR
from pos_assistant.situations import situations

KB = get_knowledge_base()
TEXTS = photo_texts()["evidence"]
HELD = "已收到1张照片，先保存在这次对话里；您登记工单后，照片会自动附到工单上。"
# One receipt line on a phone: the checklist stays a few short sentences.
MAX_CHECKLIST_CHARS = 110


def every_state() -> list[AdviceState]:
    """Every situation, every answer (yes / no / not yet) and every set of typed IDs."""
    states = []
    for situation in KB.situations.values():
        slots = situation.question_slots
        for values in itertools.product([True, False, None], repeat=len(slots)):
            for typed in ([], ["tracking_number"], ["device_sn"], ["tracking_number", "device_sn"]):
                answers = dict(zip(slots, values, strict=True))
                states.append(AdviceState(situation.name, answers, frozenset(typed)))
    return states


@pytest.mark.parametrize("state", every_state(), ids=repr)
def test_every_checklist_is_short_and_lists_only_what_the_answers_call_for(
    state: AdviceState,
) -> None:
    situation = KB.situations[state.situation]
    text = evidence_text(state, 1, TEXTS)
    assert text and len(text) <= MAX_CHECKLIST_CHARS, text
    for check in situation.evidence_checklist:
        applies = check.applies(state.answers)
        covered = bool(check.typed) and check.typed in state.typed
        listed = re.search(rf"(^|[：、]){re.escape(check.text)}([（、。]|$)", text) is not None
        assert listed == (applies and not covered), (check.text, text)
        if applies and covered:
            assert TEXTS["typed_names"][check.typed] in text


def test_each_situation_names_what_its_evidence_step_asks_to_photograph() -> None:
    # "保留证据：拍下包裹、快递单、机器和机器背面的编号。"
    unordered = [check.text for check in KB.situations["unordered_device"].evidence_checklist]
    assert unordered[:4] == ["包裹", "快递单", "机器", "机器背面的编号"]
    for situation in KB.situations.values():
        assert situation.evidence_checklist, situation.name


def test_the_photos_count_against_what_is_left() -> None:
    state = AdviceState("unordered_device", {}, frozenset({"tracking_number"}))
    assert evidence_text(state, 2, TEXTS) == (
        "快递单号已记下，不用再拍。"
        "证据清单上有3样：包裹、机器、机器背面的编号（或打字发机身号）。"
        "这次对话已收到2张照片，拍过的不用重发，还没拍的接着发。"
    )
    assert evidence_text(state, 3, TEXTS).endswith(TEXTS["photos_enough"].format(total=3))
    typed_everything = AdviceState(
        "refuse_delivery", {"deposit_paid": False}, frozenset({"tracking_number"})
    )
    assert "证据清单上有1样：申请页面截图。" in evidence_text(typed_everything, 1, TEXTS)


def test_the_active_form_is_the_advice_the_user_is_in() -> None:
    tracker = {
        "slots": {"situation": "gift_not_mailed", "deposit_paid": True, "device_sn": None},
        "active_loop": {"name": "refuse_delivery_form"},
    }
    assert advice_state(tracker) == AdviceState(
        "refuse_delivery", {"deposit_paid": True}, frozenset()
    )
    tracker["active_loop"] = {}
    assert advice_state(tracker).situation == "gift_not_mailed"
    # A form that is not a situation's (the case form) keeps the situation advised before.
    tracker["active_loop"] = {"name": "open_case_form"}
    assert advice_state(tracker).situation == "gift_not_mailed"


@pytest.mark.parametrize(
    "tracker",
    [None, {}, {"slots": {"situation": None}}, {"slots": {"situation": "other"}}],
    ids=["no tracker", "empty", "no situation", "other"],
)
def test_outside_any_advice_the_receipt_is_plain(tracker: dict | None) -> None:
    assert receipt_text(Receipt(1, None, 1), tracker) == HELD


def test_the_receipt_during_advice_is_two_lines() -> None:
    tracker = {"slots": {}, "active_loop": {"name": "unordered_device_form"}}
    receipt, checklist = receipt_text(Receipt(1, None, 1), tracker).split("\n")
    assert receipt == HELD
    assert checklist.startswith("证据清单上有4样：包裹、快递单（或打字发快递单号）")


def test_every_registered_situation_form_is_recognised() -> None:
    for entry in situations().entries:
        state = advice_state({"slots": {}, "active_loop": {"name": entry.form}})
        assert state is not None and state.situation == entry.code


def test_the_loader_refuses_a_checklist_item_typed_as_an_unknown_id(tmp_path: Path) -> None:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    path = target / "unordered_device.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["evidence_checklist"][0]["typed"] = "phone_number"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="`typed` must be one of"):
        load_knowledge_base(target)

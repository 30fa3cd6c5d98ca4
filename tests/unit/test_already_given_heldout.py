"""The held-out "already given?" set (tests/nlu/already_given_heldout.yml), through the real path.

Each message is the first message of a scam report: the suspicious-call form's validation reads it
(as the action server does), and the advice that would follow is rendered from the knowledge files.
- given:      the victim steps come at once (no question);
- not_given:  never the victim steps;
- only_asked: never the victim steps without asking first;
- unclear:    the question is asked.
Prints the per-label figures (`pytest -s`); the README quotes them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.advice_forms import situation_form
from pos_assistant.knowledge import get_knowledge_base, render_situation
from pos_assistant.nlu.already_given import read_already_given
from tests.unit.trackers import build_tracker

HELDOUT = Path(__file__).resolve().parents[1] / "nlu" / "already_given_heldout.yml"
SET: dict[str, list[str]] = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
CASES = [(label, text) for label, texts in SET.items() for text in texts]
VICTIM_STEP = "立即打110报警"  # the second victim step, only in the "given" advice


def first_message(text: str) -> Tracker:
    return build_tracker(text, "report_suspicious_call", events=[])


async def outcome(text: str) -> str:
    """ "victim steps", "safe steps" or "asked": what the user gets after the scam warning."""
    events = await situation_form("suspicious_call").run(
        CollectingDispatcher(), first_message(text), {}
    )
    answers = [e["value"] for e in events if e.get("name") == "secret_already_given"]
    if not answers or answers[-1] is None:
        return "asked"
    knowledge = get_knowledge_base()
    situation = knowledge.situations["suspicious_call"]
    rendered = render_situation(situation, {"secret_already_given": answers[-1]}, knowledge.common)
    return "victim steps" if VICTIM_STEP in rendered[0].text else "safe steps"


ALLOWED = {
    "given": {"victim steps"},
    "not_given": {"safe steps"},
    "only_asked": {"asked", "safe steps"},
    "unclear": {"asked"},
}


def test_the_set_is_big_enough_and_labelled() -> None:
    assert set(SET) == set(ALLOWED)
    assert len(CASES) >= 60
    assert all(len(texts) >= 10 for texts in SET.values())


@pytest.mark.parametrize(("label", "text"), CASES)
async def test_heldout_message(label: str, text: str) -> None:
    assert await outcome(text) in ALLOWED[label], (label, text)


async def test_heldout_figures() -> None:
    right: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    for label, text in CASES:
        right[label] += await outcome(text) in ALLOWED[label]
        exact[label] += read_already_given(text).value == label
    for label, texts in SET.items():
        print(
            f"{label}: outcome right {right[label]}/{len(texts)}, "
            f"label read exactly {exact[label]}/{len(texts)}"
        )
    assert right == Counter({label: len(texts) for label, texts in SET.items()})

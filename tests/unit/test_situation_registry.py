"""Every situation in data/situations.yml has all of its parts (docs/adding-a-situation.md).

A registered situation without its intent, NLU examples, form, slots, questions, actions, rules,
knowledge file, labels or test stories fails here, naming what is missing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.advice import ADVISE_ACTIONS
from actions.advice_forms import VALIDATE_FORMS
from actions.conversation import topic_labels
from pos_assistant.cases.labels import load_case_labels
from pos_assistant.knowledge import load_knowledge_base
from pos_assistant.knowledge.loader import KNOWLEDGE_DIR
from pos_assistant.situations import RegistryError, SituationEntry, load_registry, situations
from tests.paths import PROJECT_ROOT

MIN_NLU_EXAMPLES = 10
# The menus that list every situation as a quick reply sending its intent.
SITUATION_MENUS = ("utter_greet", "utter_advice_no_situation", "utter_session_welcome")
CASE_CATEGORY_QUESTION = "utter_ask_case_category"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


DOMAIN = _yaml(PROJECT_ROOT / "domain.yml")


def _nlu_examples() -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for block in _yaml(path).get("nlu") or []:
            if "intent" in block:
                lines = [line for line in block["examples"].splitlines() if line.strip()]
                counts[block["intent"]] = counts.get(block["intent"], 0) + len(lines)
    return counts


def _steps(directory: Path, key: str) -> list[list[dict[str, Any]]]:
    return [
        item.get("steps") or []
        for path in sorted(directory.glob("*.yml"))
        for item in _yaml(path).get(key) or []
    ]


def _follows(steps: list[dict[str, Any]], first: dict[str, Any], then: dict[str, Any]) -> bool:
    return any(a == first and then in steps[i + 1 :] for i, a in enumerate(steps))


def _menu_payloads(response: str) -> dict[str, str]:
    buttons = DOMAIN["responses"][response][0].get("buttons") or []
    return {button["payload"]: button["title"] for button in buttons}


def missing_parts(entry: SituationEntry) -> list[str]:
    """What a registered situation still lacks; empty when it is complete."""
    missing: list[str] = []
    if entry.intent not in DOMAIN["intents"]:
        missing.append(f"intent {entry.intent} in domain.yml")
    if _nlu_examples().get(entry.intent, 0) < MIN_NLU_EXAMPLES:
        missing.append(f"{MIN_NLU_EXAMPLES}+ NLU examples of {entry.intent} in data/nlu/")
    form = (DOMAIN.get("forms") or {}).get(entry.form) or {}
    if form.get("required_slots") != list(entry.asks):
        missing.append(f"form {entry.form} asking {list(entry.asks)} in domain.yml")
    for slot in entry.asks:
        conditions = [
            condition
            for mapping in (DOMAIN["slots"].get(slot) or {}).get("mappings") or []
            for condition in mapping.get("conditions") or []
        ]
        if not any(c.get("active_loop") == entry.form for c in conditions):
            missing.append(f"slot {slot} filled by yes/no inside {entry.form} in domain.yml")
        if f"utter_ask_{slot}" not in DOMAIN["responses"]:
            missing.append(f"response utter_ask_{slot} in domain.yml")
    for action in (entry.advise_action, entry.validate_action):
        if action not in DOMAIN["actions"]:
            missing.append(f"action {action} in domain.yml")
    if entry.code not in DOMAIN["slots"]["situation"]["values"]:
        missing.append(f"value {entry.code} of the `situation` slot in domain.yml")
    for response in SITUATION_MENUS:
        if _menu_payloads(response).get(f"/{entry.intent}") != entry.button_label:
            missing.append(f"button “{entry.button_label}” in {response}")
    if entry.case_label not in _menu_payloads(CASE_CATEGORY_QUESTION):
        missing.append(f"button “{entry.case_label}” in {CASE_CATEGORY_QUESTION}")
    rules = _steps(PROJECT_ROOT / "data" / "rules", "rules")
    start = {"intent": entry.intent}
    if not any(_follows(steps, start, {"action": entry.form}) for steps in rules):
        missing.append(f"a rule starting {entry.form} on {entry.intent} in data/rules/")
    if not any({"action": entry.advise_action} in steps for steps in rules):
        missing.append(f"a rule running {entry.advise_action} in data/rules/")
    stories = _steps(PROJECT_ROOT / "tests" / "stories", "stories")
    advised = {"action": entry.advise_action}
    if not any(
        any(step.get("intent") == entry.intent for step in steps) and advised in steps
        for steps in stories
    ):
        missing.append(f"a test story from {entry.intent} to {entry.advise_action}")
    if not (KNOWLEDGE_DIR / entry.knowledge_file).is_file():
        missing.append(f"knowledge file data/knowledge/{entry.knowledge_file}")
    return missing


@pytest.mark.parametrize("code", situations().codes)
def test_every_registered_situation_has_all_its_parts(code: str) -> None:
    entry = situations().get(code)
    assert entry is not None
    assert missing_parts(entry) == []


@pytest.mark.parametrize("code", situations().codes)
def test_the_registry_drives_actions_knowledge_and_labels(code: str) -> None:
    entry = situations().get(code)
    assert entry is not None
    assert ADVISE_ACTIONS[code]().name() == entry.advise_action
    assert VALIDATE_FORMS[code]().name() == entry.validate_action
    knowledge = load_knowledge_base().situations[code]
    assert knowledge.question_slots == entry.asks and knowledge.title
    assert load_case_labels().categories[code] == entry.case_label
    assert topic_labels()[entry.intent] == entry.topic_label


def test_a_situation_added_only_to_the_registry_is_reported_incomplete() -> None:
    template = situations().entries[0]
    sixth = replace(
        template,
        code="card_swallowed",
        intent="report_card_swallowed",
        form="card_swallowed_form",
        asks=("card_returned",),
        knowledge_file="card_swallowed.yml",
        button_label="吞卡",
        case_label="POS机吞卡",
    )
    missing = "\n".join(missing_parts(sixth))
    for part in (
        "intent report_card_swallowed",
        "NLU examples",
        "form card_swallowed_form",
        "utter_ask_card_returned",
        "action action_advise_card_swallowed",
        "action validate_card_swallowed_form",
        "`situation` slot",
        "utter_greet",
        CASE_CATEGORY_QUESTION,
        "a rule starting",
        "test story",
        "knowledge file",
    ):
        assert part in missing


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda s: s.replace("code: gift_not_mailed", "code: unordered_device"), "share a code"),
        (lambda s: s.replace("    scam: true\n", ""), "exactly one"),
        (lambda s: s.replace("      topic: 办机赠品没寄\n", ""), "labels"),
        (lambda s: s.replace("asks: [deposit_paid]", "asks: []"), "asks"),
    ],
)
def test_the_registry_refuses_an_inconsistent_file(edit: Any, problem: str, tmp_path: Path) -> None:
    source = (PROJECT_ROOT / "data" / "situations.yml").read_text(encoding="utf-8")
    broken = tmp_path / "situations.yml"
    broken.write_text(edit(source), encoding="utf-8")
    assert edit(source) != source
    with pytest.raises(RegistryError, match=problem):
        load_registry(broken)

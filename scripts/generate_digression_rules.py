"""Writes data/rules/digressions.yml: what every form does when the user changes the subject.

The same handful of digressions applies to every form (one per situation in data/situations.yml,
and the two case forms), so the rules are generated instead of hand-copied
(tests/unit/test_digression_rules.py fails when the file is stale):
- a FAQ or follow-up question, or "are you a bot", is answered, then the form asks its question
  again; "继续" asks it again;
- another situation, opening a case or looking one up ends the form and starts the new topic;
- a scam signal ends a case form with the scam warning first (advice forms: data/rules/advice.yml);
- asking for a person ends an advice form and hands over (case forms: data/rules/cases.yml).

Run: .venv/bin/python scripts/generate_digression_rules.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from pos_assistant.situations import situations  # noqa: E402  (after the path is set)

RULES_FILE = PROJECT_ROOT / "data" / "rules" / "digressions.yml"

REGISTRY = situations()
SCAM = REGISTRY.scam
# Another situation ends the form and starts its own; the scam situation has its own rules
# (data/rules/advice.yml: the warning first) and, in a case form, the rule below.
SITUATION_FORMS = {entry.intent: entry.form for entry in REGISTRY.entries if not entry.scam}
ADVICE_FORMS = [entry.form for entry in REGISTRY.entries]
CASE_FORMS = {"open_case": "open_case_form", "check_case_status": "case_lookup_form"}
ALL_FORMS = [*ADVICE_FORMS, *CASE_FORMS.values()]
FAQ_INTENTS = ["ask_fees", "ask_apply", "ask_activation"]


def end_form() -> list[dict[str, Any]]:
    return [
        {"action": "action_deactivate_loop"},
        {"active_loop": None},
        {"slot_was_set": [{"requested_slot": None}]},
    ]


def start_form(form: str, reset_answers: bool) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = (
        [{"action": "action_reset_advice_answers"}] if reset_answers else []
    )
    return [*steps, {"action": form}, {"active_loop": form}]


def rule(name: str, form: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rule": name, "condition": [{"active_loop": form}], "steps": steps}


def rules_for(form: str) -> list[dict[str, Any]]:
    rules = [
        rule(
            f"{form} - answer a FAQ, then continue",
            form,
            [
                {"or": [{"intent": intent} for intent in FAQ_INTENTS]},
                {"action": "action_answer_faq"},
                {"action": form},
                {"active_loop": form},
            ],
        ),
        rule(
            f"{form} - answer a side question, then continue",
            form,
            [
                {"intent": "ask_follow_up"},
                {"action": "action_answer_follow_up"},
                {"action": form},
                {"active_loop": form},
            ],
        ),
        rule(
            f"{form} - asked to go on, ask again",
            form,
            [{"intent": "resume_form"}, {"action": form}, {"active_loop": form}],
        ),
        rule(
            f"{form} - say it is a bot, then continue",
            form,
            [
                {"intent": "bot_challenge"},
                {"action": "utter_iamabot"},
                {"action": form},
                {"active_loop": form},
            ],
        ),
    ]
    for intent, target in SITUATION_FORMS.items():
        if target != form:
            rules.append(
                rule(
                    f"{form} - switch to {target}",
                    form,
                    [{"intent": intent}, *end_form(), *start_form(target, reset_answers=True)],
                )
            )
    for intent, target in CASE_FORMS.items():
        if target == form:
            # "帮我登记" while already registering: go on with the question that was asked.
            rules.append(
                rule(
                    f"{form} - asked for the same again, go on",
                    form,
                    [{"intent": intent}, {"action": form}, {"active_loop": form}],
                )
            )
            continue
        rules.append(
            rule(
                f"{form} - switch to {target}",
                form,
                [{"intent": intent}, *end_form(), *start_form(target, reset_answers=False)],
            )
        )
    if form in CASE_FORMS.values():
        rules.append(
            rule(
                f"{form} - a scam signal interrupts, warning first",
                form,
                [
                    {"intent": SCAM.intent},
                    {"action": "utter_scam_warning"},
                    *end_form(),
                    *start_form(SCAM.form, reset_answers=True),
                ],
            )
        )
    else:
        rules.append(
            rule(
                f"{form} - hand over to a person",
                form,
                [{"intent": "request_human"}, *end_form(), {"action": "action_handoff_to_human"}],
            )
        )
    return rules


def render() -> str:
    header = (
        "# Generated by scripts/generate_digression_rules.py: edit the script, not this file.\n"
    )
    body = {"version": "3.1", "rules": [r for form in ALL_FORMS for r in rules_for(form)]}
    return header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)


if __name__ == "__main__":
    RULES_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {RULES_FILE}")

"""The generated digression rules are current and only name forms and actions the domain has."""

from __future__ import annotations

import importlib.util

import yaml

from tests.paths import PROJECT_ROOT


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_digression_rules", PROJECT_ROOT / "scripts" / "generate_digression_rules.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rules_file_matches_its_generator() -> None:
    generator = load_generator()
    assert generator.RULES_FILE.read_text(encoding="utf-8") == generator.render(), (
        "data/rules/digressions.yml is stale: run scripts/generate_digression_rules.py"
    )


def test_rules_name_only_forms_and_actions_of_the_domain() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    known = set(domain["forms"]) | set(domain["actions"]) | set(domain["responses"])
    known |= {"action_deactivate_loop"}
    rules = yaml.safe_load((PROJECT_ROOT / "data/rules/digressions.yml").read_text("utf-8"))
    for rule in rules["rules"]:
        for step in rule["steps"]:
            if "action" in step:
                assert step["action"] in known, (rule["rule"], step["action"])
            if step.get("active_loop"):
                assert step["active_loop"] in domain["forms"], rule["rule"]

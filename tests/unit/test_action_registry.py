"""The action server registers exactly the custom actions the domain names, and starts."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text("utf-8"))


def test_action_server_registers_every_domain_action_and_nothing_else() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = set(executor.actions)
    custom = {name for name in DOMAIN["actions"] if not name.startswith("utter_")}
    assert custom - registered == set(), "domain actions the action server does not serve"
    assert registered - custom == set(), "actions served but not in the domain (or base classes)"


def test_action_modules_import_helpers_never_one_another() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    # The registry holds each action's bound `run`; its class names the module.
    action_modules = {type(run.__self__).__module__ for run in executor.actions.values()}
    for module in sorted(action_modules):
        path = Path(__file__).resolve().parents[2] / (module.replace(".", "/") + ".py")
        imported = {
            node.module
            for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert imported & (action_modules - {module}) == set(), module

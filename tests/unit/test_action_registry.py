"""The action server registers exactly the custom actions the domain names, and starts."""

from __future__ import annotations

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

"""pos_assistant.rasa_patches: the action server's answer is validated as strictly as upstream."""

from __future__ import annotations

import logging
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.policies import rule_policy
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RulePolicy

from pos_assistant import rasa_patches
from tests.e2e.stack import PROJECT_ROOT
from tests.fresh_python import fresh_python_output

SCHEMA = RemoteAction.action_response_format_spec()

VALID: list[Any] = [
    {},
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "requested_slot", "value": None, "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "action", "name": "utter_x", "policy": None, "confidence": 1.0},
            {"event": "entities", "entities": [{"entity": "brand", "value": "拉卡拉"}]},
        ],
        "responses": [{"response": "utter_greet", "buttons": []}],
    },
]
INVALID: list[Any] = [
    None,
    [],
    {"events": "x"},
    {"events": [1]},
    {"events": [{"name": "x"}]},  # no event type
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},  # a slot event needs name and value
    {"events": [{"event": "slot", "name": 1, "value": 2}]},
    {"events": [{"event": "user", "text": 5}]},
    {"events": [{"event": "user", "parse_data": {"entities": [{"entity": "a"}]}}]},
    {"events": [{"event": "bot", "timestamp": "yesterday"}]},
    {"events": [{"event": "entities"}]},
    {"events": [], "responses": "x"},
    {"responses": [1]},
]


def upstream_accepts(result: Any) -> bool:
    try:
        jsonschema.validate(result, SCHEMA)
    except jsonschema.ValidationError:
        return False
    return True


@pytest.mark.parametrize("result", VALID + INVALID)
def test_same_verdict_as_upstream_jsonschema(result: Any) -> None:
    error = jsonschema.exceptions.best_match(rasa_patches.response_validator().errors(result))
    assert (error is None) == upstream_accepts(result)


@pytest.mark.parametrize("result", INVALID)
def test_an_invalid_answer_is_rejected_with_rasas_message(result: Any) -> None:
    rasa_patches.install()
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        RemoteAction("action_x", None)._validate_action_result(result)


def test_a_valid_answer_passes() -> None:
    rasa_patches.install()
    for result in VALID:
        assert RemoteAction("action_x", None)._validate_action_result(result) is True


def test_active_once_rasa_loads_our_tracker_store() -> None:
    # What the Rasa server does: its own action code first, then our modules from endpoints.yml.
    code = (
        "import rasa.core.actions.action as action\n"
        "import pos_assistant.tracker_store\n"
        "from pos_assistant import rasa_patches\n"
        "print(rasa_patches.installed(),"
        " action.RemoteAction._validate_action_result is rasa_patches._validate_action_result)\n"
    )
    assert fresh_python_output(code, TF_CPP_MIN_LOG_LEVEL="3") == "True True"


def test_off_keeps_rasa_as_shipped() -> None:
    code = (
        "import rasa.core.actions.action as action\n"
        "import pos_assistant.tracker_store\n"
        "print(hasattr(action.RemoteAction, '_pos_assistant_fast_validation'))\n"
    )
    assert fresh_python_output(code, TF_CPP_MIN_LOG_LEVEL="3", POS_RASA_PATCHES="off") == "False"


def test_not_loaded_where_rasa_core_is_not() -> None:
    # The action server and the staff tools import pos_assistant without Rasa's dialogue engine.
    code = "import sys, pos_assistant\nprint('rasa.core.actions.action' in sys.modules)\n"
    assert fresh_python_output(code) == "False"


STATES = [
    {},
    {
        "user": {"intent": "report_unordered_device"},
        "prev_action": {"action_name": "action_listen"},
    },
    {"prev_action": {"action_name": "unordered_device_form"}, "active_loop": {"name": "x"}},
]


def test_rule_states_are_formatted_only_for_a_debug_log() -> None:
    rasa_patches.install()
    logger = logging.getLogger(rule_policy.__name__)
    level = logger.level
    try:
        logger.setLevel(logging.INFO)
        assert RulePolicy.format_tracker_states(STATES) == ""
        logger.setLevel(logging.DEBUG)
        formatted = RulePolicy.format_tracker_states(STATES)
    finally:
        logger.setLevel(level)
    assert formatted == Policy.format_tracker_states(STATES)
    assert "report_unordered_device" in formatted


def test_rasas_graph_validation_accepts_the_patched_components() -> None:
    # `rasa train` and the server validate every graph component's run method from its
    # signature and annotations: a patched method must look like upstream's to them.
    from rasa.engine.recipes.recipe import Recipe
    from rasa.engine.validation import validate
    from rasa.shared.data import TrainingType
    from rasa.shared.utils.io import read_model_configuration

    rasa_patches.install()
    config = read_model_configuration(PROJECT_ROOT / "config.yml")
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    validate(recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH))

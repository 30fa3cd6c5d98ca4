"""Per-turn costs of Rasa 3.6 that this project removes, installed into the Rasa server process.

The action server's answer is validated on every custom-action call. Upstream
(rasa/core/actions/action.py, `RemoteAction._validate_action_result`, Rasa 3.6.21) calls
`jsonschema.validate(result, RemoteAction.action_response_format_spec())`, which on every call
checks the schema itself against the JSON-Schema meta-schema, builds a new validator, and then
tries each event against all 23 alternatives of the events schema's `oneOf`
(rasa/shared/utils/schemas/events.py). Measured on this 2-core machine: ~140 ms per call under
load, the largest single cost of a turn (docs/turn-profile.md).

`install()` replaces it with the same check, prepared once: the schema is checked once, and
each event is validated against the one alternative whose `event` constant it names (the
alternatives are told apart by that constant, so "exactly one of them matches" is the same as
"the one it names matches"). Invalid answers are still rejected with jsonschema's
ValidationError and Rasa's own message suffix. If a Rasa upgrade changes the schema so that the
alternatives are no longer told apart by their constant, the full compiled schema is used.

`install()` also makes `DialogueStateTracker.copy()` (run before every action) copy the state
instead of replaying every event of the session (pos_assistant/tracker_copy.py), and the
policies' dialogue states continue from the previous prediction's instead of being rebuilt from
the start of the session (pos_assistant/past_states.py), and so does the list of applied
events they are built from (pos_assistant/applied_events.py), and each call to the action server
carries only the events it was not sent before (pos_assistant/sent_events.py).

The model graph (NLU pipeline, policies) runs node after node in an order worked out once, not
through a dask graph built on every run (pos_assistant/graph_runner.py).

RulePolicy's rule lookup stops walking back over the conversation once no rule can change, and
checks the latest state only against the rules that could match it (pos_assistant/rule_lookup.py).
The policies are handed only the last dialogue states they read (pos_assistant/state_tail.py).
Events read back find their class by a dict, not a walk of every event class
(pos_assistant/event_types.py).

RulePolicy formats every dialogue state of the session into a string on every prediction, only to
pass it to a debug log message (`RulePolicy._find_action_from_rules`, `format_tracker_states`):
about 3 ms per prediction after 100 turns. It is formatted only when that debug message is
logged (Rasa configures structlog's level and the standard loggers' from the same --log-level).

Installed by `pos_assistant/__init__.py` in any process that has loaded Rasa's action code (the
Rasa server, `rasa test`, `rasa shell`), i.e. as soon as Rasa imports one of our modules.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.policies import rule_policy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.constants import DOCS_BASE_URL

from pos_assistant import (
    applied_events,
    event_types,
    graph_runner,
    past_states,
    rule_lookup,
    sent_events,
    state_tail,
    tracker_copy,
)

_INSTALLED_MARK = "_pos_assistant_fast_validation"


class _ResponseValidator:
    """The action-server answer schema, prepared once."""

    def __init__(self, schema: dict[str, Any]) -> None:
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        self._full: Validator = validator_class(schema)
        self._by_event: dict[str, Validator] | None = None
        self._envelope: Validator | None = None
        event_schema = schema.get("properties", {}).get("events", {}).get("items", {})
        alternatives = event_schema.get("oneOf")
        constants = [
            alternative.get("properties", {}).get("event", {}).get("const")
            for alternative in alternatives or []
        ]
        if not alternatives or None in constants or len(set(constants)) != len(constants):
            return  # not told apart by the constant: validate with the full schema
        common = {key: value for key, value in event_schema.items() if key != "oneOf"}
        envelope = copy.deepcopy(schema)
        envelope["properties"]["events"]["items"] = common
        self._envelope = validator_class(envelope)
        self._by_event = {
            constant: validator_class(alternative)
            for constant, alternative in zip(constants, alternatives, strict=True)
        }

    def errors(self, result: Any) -> Iterator[ValidationError]:
        if self._by_event is None or self._envelope is None:
            yield from self._full.iter_errors(result)
            return
        envelope_errors = list(self._envelope.iter_errors(result))
        if envelope_errors:
            yield from envelope_errors
            return
        for index, event in enumerate((result or {}).get("events") or []):
            alternative = self._by_event.get(event["event"])
            if alternative is None:
                yield ValidationError(
                    f"{event!r} is not valid under any of the given schemas",
                    path=["events", index],
                )
                continue
            for error in alternative.iter_errors(event):
                error.path.extendleft([index, "events"])
                yield error


@lru_cache(maxsize=1)
def response_validator() -> _ResponseValidator:
    return _ResponseValidator(RemoteAction.action_response_format_spec())


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(response_validator().errors(result))
    if error is None:
        return True
    # The same message suffix as upstream.
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        "For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


_upstream_format_tracker_states = RulePolicy.format_tracker_states


def _format_tracker_states(states: list[dict[str, Any]]) -> str:
    """Rasa's text of the states where its debug message is logged, else nothing."""
    if not logging.getLogger(rule_policy.__name__).isEnabledFor(logging.DEBUG):
        return ""
    return _upstream_format_tracker_states(states)


def install() -> None:
    """Installs the patches (idempotent)."""
    tracker_copy.install()
    past_states.install()
    applied_events.install()
    sent_events.install()
    rule_lookup.install()
    state_tail.install()
    event_types.install()
    graph_runner.install()
    if getattr(RemoteAction, _INSTALLED_MARK, False):
        return
    response_validator()  # prepare now, not in the first user's turn
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    RulePolicy.format_tracker_states = staticmethod(_format_tracker_states)  # type: ignore[method-assign]
    setattr(RemoteAction, _INSTALLED_MARK, True)


def installed() -> bool:
    return bool(getattr(RemoteAction, _INSTALLED_MARK, False))

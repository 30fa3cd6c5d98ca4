"""Event classes found by type name through the kept dict are upstream's (event_types.py)."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.utils.common import all_subclasses

from pos_assistant import event_types
from tests.unit.tracker_states import all_events


def test_every_event_class_resolves_as_upstream() -> None:
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in sorted(names):
        for _ in range(2):  # the walk, then the kept class
            assert event_types.resolve_by_type(name) is event_types.upstream_resolve_by_type(name)


def test_unknown_names_keep_upstreams_default_and_error() -> None:
    assert event_types.resolve_by_type("no_such_event", ActionExecuted) is ActionExecuted
    assert event_types.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        event_types.resolve_by_type("no_such_event")
    assert "no_such_event" not in event_types._resolved


def test_installed_events_round_trip() -> None:
    event_types.install()
    assert Event.resolve_by_type("user") is UserUttered
    for event in all_events():
        assert Event.from_parameters(event.as_dict()) == event

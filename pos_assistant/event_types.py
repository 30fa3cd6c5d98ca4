"""Rasa's event classes found by their type name through a dict, not a walk of every subclass.

Every event read from the tracker store or from an action server's answer is turned back into
an object by `Event.from_parameters`, which finds its class with `Event.resolve_by_type`
(rasa/shared/core/events.py, Rasa 3.6.21): a walk of every subclass of `Event`, built anew for
each event (about 3 % of a busy server's time). Here the class a type name resolved to is kept
and found again by that name.

The same class as upstream's walk, since event classes are defined when Rasa is imported; a class
defined later that reuses a type name already resolved is not picked up (upstream would pick it
only if it came first in the walk). Names that resolve to nothing still go to upstream's walk,
with its default and its error.
"""

from __future__ import annotations

from rasa.shared.core.events import Event

_INSTALLED_MARK = "_pos_assistant_event_types"

upstream_resolve_by_type = Event.resolve_by_type
_resolved: dict[str, type[Event]] = {}


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """`Event.resolve_by_type`, remembered by type name."""
    known = _resolved.get(type_name)
    if known is not None:
        return known
    found = upstream_resolve_by_type(type_name, default)
    if found is not None and getattr(found, "type_name", None) == type_name:
        _resolved[type_name] = found
    return found


def install() -> None:
    """Installs the lookup (idempotent)."""
    if getattr(Event, _INSTALLED_MARK, False):
        return
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
    setattr(Event, _INSTALLED_MARK, True)

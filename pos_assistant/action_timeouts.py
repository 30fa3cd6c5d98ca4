"""The Rasa server keeps answering when the action server is hung, down or failing.

Rasa 3.6 waits up to 5 minutes for a custom action (`DEFAULT_REQUEST_TIMEOUT` = 300 s, passed by
`RemoteAction.run` in rasa/core/actions/action.py), and when a call fails it logs the action as
run without events and goes on predicting: the next custom action of the same turn waits again,
and the user may get nothing at all. Installed into the Rasa server process, this module makes:

- every call to the action server end after ACTION_TIMEOUT_SECONDS (a timeout, a refused
  connection and a 5xx answer all count as "the action server did not answer");
- the rest of that turn skip the action server at once (one wait per turn, not one per action);
- the slot values extracted in that turn be dropped rather than kept unvalidated (their
  validation is a custom action);
- the turn end with `utter_assistant_unavailable` (what to do now if money or a code is
  involved, and a person) followed by `action_listen`.

The user's message stays in the conversation like any other (the tracker is saved as usual),
and the next message is handled normally once the action server answers again: nothing is
remembered across turns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import aiohttp
from rasa.core.actions.action import ActionExtractSlots, RemoteAction, create_bot_utterance
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import Event, FollowupAction
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

from pos_assistant.settings import get_settings

logger = logging.getLogger(__name__)

APOLOGY_RESPONSE = "utter_assistant_unavailable"
_INSTALLED_MARK = "_pos_assistant_action_timeouts"


class ActionServerUnavailable(RasaException):
    """The action server did not answer a call in time, refused it, or failed with a 5xx."""

    def __init__(self, action_name: str, reason: str) -> None:
        self.action_name = action_name
        self.reason = reason
        super().__init__(f"action server unavailable for '{action_name}': {reason}")


@dataclass
class _TurnState:
    unavailable: bool = False


# The turn the current task is handling (set by MessageProcessor.handle_message).
_turn: ContextVar[_TurnState | None] = ContextVar("pos_assistant_turn", default=None)

_original_handle_message = MessageProcessor.handle_message
_original_run_action = MessageProcessor._run_action
_original_remote_run = RemoteAction.run
_original_validation = ActionExtractSlots._execute_validation_action


def _is_unavailable(error: RasaException) -> bool:
    """Rasa's wrapping of a refused connection, a dropped one, or a 5xx answer."""
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ClientResponseError):
        return cause.status >= 500
    return isinstance(cause, aiohttp.ClientError)


async def _remote_run(
    self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
) -> list[Event]:
    state = _turn.get()
    if state is not None and state.unavailable:
        raise ActionServerUnavailable(self.name(), "it did not answer earlier in this turn")
    timeout = get_settings().action_timeout_seconds
    try:
        return await asyncio.wait_for(
            _original_remote_run(self, output_channel, nlg, tracker, domain), timeout
        )
    except asyncio.TimeoutError:
        reason = f"no answer within {timeout:g} s"
    except ActionServerUnavailable:
        raise
    except RasaException as error:
        if not _is_unavailable(error):
            raise
        reason = str(error)
    if state is not None:
        state.unavailable = True
    logger.error("Action server unavailable for '%s': %s", self.name(), reason)
    raise ActionServerUnavailable(self.name(), reason)


async def _execute_validation_action(self: ActionExtractSlots, *args: Any, **kwargs: Any) -> Any:
    events = await _original_validation(self, *args, **kwargs)
    state = _turn.get()
    if state is not None and state.unavailable:
        return []  # unvalidated values never enter the conversation
    return events


class _ApologisingAction:
    """An action whose "action server unavailable" ends the turn with the apology."""

    def __init__(self, action: Any) -> None:
        self._action = action

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Event]:
        try:
            return await self._action.run(output_channel, nlg, tracker, domain)
        except ActionServerUnavailable:
            return await apology_events(output_channel, nlg, tracker)


async def apology_events(output_channel: Any, nlg: Any, tracker: Any) -> list[Event]:
    """The apology and an `action_listen`, so the turn asks nothing more of the action server."""
    events: list[Event] = []
    response = await nlg.generate(APOLOGY_RESPONSE, tracker, output_channel.name())
    if response:
        response["utter_action"] = APOLOGY_RESPONSE
        events.append(create_bot_utterance(response))
    events.append(FollowupAction(ACTION_LISTEN_NAME))
    return events


async def _run_action(
    self: MessageProcessor,
    action: Any,
    tracker: Any,
    output_channel: Any,
    nlg: Any,
    prediction: Any,
) -> bool:
    return await _original_run_action(
        self, _ApologisingAction(action), tracker, output_channel, nlg, prediction
    )


@contextmanager
def turn_scope() -> Iterator[None]:
    """One user turn: after the action server failed once, it is not called again in it."""
    token = _turn.set(_TurnState())
    try:
        yield
    finally:
        _turn.reset(token)


async def _handle_message(self: MessageProcessor, message: Any) -> Any:
    with turn_scope():
        return await _original_handle_message(self, message)


def install() -> None:
    """Installs the timeouts and the apology (idempotent)."""
    if getattr(MessageProcessor, _INSTALLED_MARK, False):
        return
    RemoteAction.run = _remote_run  # type: ignore[method-assign]
    ActionExtractSlots._execute_validation_action = _execute_validation_action  # type: ignore[method-assign]
    MessageProcessor._run_action = _run_action  # type: ignore[method-assign]
    MessageProcessor.handle_message = _handle_message  # type: ignore[method-assign]
    setattr(MessageProcessor, _INSTALLED_MARK, True)


def installed() -> bool:
    return bool(getattr(MessageProcessor, _INSTALLED_MARK, False))

"""A Rasa server works on a bounded number of turns at once, and finishes every turn it started.

Rasa 3.6 starts every incoming message at once. Its NLU and policies run on the one event loop,
so with a hundred turns in progress the loop is busy for seconds between two steps of any one
turn: measured with 200 simulated users on 2 Rasa processes, the loop stalled up to 4.3 s while
the action server answered every call within 0.6 s, and the action timeout
(pos_assistant/action_timeouts.py) fired on answers that had already arrived, so users got the
apology for a healthy action server. And when a client gives up on its request (a timeout, a
closed page), Sanic cancels the request's task: the turn stopped before the tracker was saved
and the user's message was lost.

Installed into the Rasa server process, this makes `Agent.handle_message`:

- wait for one of RASA_CONCURRENT_TURNS places before the turn starts (first come, first
  served); waiting turns cost nothing on the loop, so the turns in progress keep moving and the
  action timeout measures the action server again. At most RASA_WAITING_TURNS messages wait;
  beyond that a message is refused at once (logged) rather than queued without bound;
- run the turn in a task of its own that the request's cancellation does not reach, so a turn
  that was accepted is always finished and saved, whether or not anyone still waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from rasa.core.agent import Agent
from rasa.shared.exceptions import RasaException

from pos_assistant.settings import get_settings

logger = logging.getLogger(__name__)

_INSTALLED_MARK = "_pos_assistant_turn_admission"
_original_handle_message = Agent.handle_message


class TooManyWaitingTurns(RasaException):
    """RASA_WAITING_TURNS messages already wait for a place on this server."""


class TurnGate:
    """At most `concurrent` turns at once; at most `waiting` more wait for a place."""

    def __init__(self, concurrent: int, waiting: int) -> None:
        self._places = asyncio.Semaphore(concurrent)
        self._max_waiting = waiting
        self._waiting = 0
        self._running: set[asyncio.Task] = set()

    @property
    def waiting(self) -> int:
        return self._waiting

    def finish_in_background(self, coroutine: Any) -> asyncio.Future:
        """The turn as a task its caller's cancellation does not reach (a reference is kept
        until it ends, so it is not garbage-collected mid-way)."""
        task = asyncio.ensure_future(coroutine)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return asyncio.shield(task)

    async def admitted(self, coroutine_function: Any, *args: Any) -> Any:
        if self._waiting >= self._max_waiting:
            raise TooManyWaitingTurns(f"{self._waiting} messages already wait on this server")
        self._waiting += 1
        try:
            await self._places.acquire()
        finally:
            self._waiting -= 1
        try:
            return await coroutine_function(*args)
        finally:
            self._places.release()


# One gate per event loop (a server has one; `rasa test` and tests may run several in turn).
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TurnGate] = weakref.WeakKeyDictionary()


def gate() -> TurnGate:
    """The running loop's gate, made on first use."""
    loop = asyncio.get_running_loop()
    turns = _gates.get(loop)
    if turns is None:
        settings = get_settings()
        turns = TurnGate(settings.rasa_concurrent_turns, settings.rasa_waiting_turns)
        _gates[loop] = turns
    return turns


async def _handle_message(self: Agent, message: Any) -> Any:
    turns = gate()
    try:
        return await turns.finish_in_background(
            turns.admitted(_original_handle_message, self, message)
        )
    except TooManyWaitingTurns as refused:
        logger.error("Message refused, the server is overloaded: %s", refused)
        return None


def install() -> None:
    """Installs the gate (idempotent)."""
    if getattr(Agent, _INSTALLED_MARK, False):
        return
    Agent.handle_message = _handle_message  # type: ignore[method-assign]
    setattr(Agent, _INSTALLED_MARK, True)


def installed() -> bool:
    return bool(getattr(Agent, _INSTALLED_MARK, False))

"""A Rasa server works on a bounded number of turns at once, bounds those waiting, and finishes a
turn whose client gave up (pos_assistant/turn_admission.py)."""

from __future__ import annotations

import asyncio

import pytest

from pos_assistant.turn_admission import TooManyWaitingTurns, TurnGate, gate
from tests.fresh_python import fresh_python_output


def test_active_once_rasa_loads_our_tracker_store() -> None:
    code = (
        "import rasa.core.actions.action\n"
        "import pos_assistant.tracker_store\n"
        "from rasa.core.agent import Agent\n"
        "from pos_assistant import turn_admission\n"
        "print(turn_admission.installed(),"
        " Agent.handle_message is turn_admission._handle_message)\n"
    )
    assert fresh_python_output(code, TF_CPP_MIN_LOG_LEVEL="3") == "True True"


async def test_at_most_the_allowed_turns_run_at_once_the_others_wait_their_turn() -> None:
    gate = TurnGate(concurrent=2, waiting=10)
    running = most = 0
    order: list[int] = []

    async def turn(number: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        order.append(number)
        return number

    results = await asyncio.gather(*(gate.admitted(turn, n) for n in range(6)))
    assert results == list(range(6))
    assert most == 2
    assert order == list(range(6))  # first come, first served


async def test_messages_beyond_the_waiting_bound_are_refused_not_queued() -> None:
    gate = TurnGate(concurrent=1, waiting=2)
    release = asyncio.Event()

    async def turn() -> None:
        await release.wait()

    first = asyncio.ensure_future(gate.admitted(turn))
    waiting = [asyncio.ensure_future(gate.admitted(turn)) for _ in range(2)]
    await asyncio.sleep(0.01)
    assert gate.waiting == 2
    with pytest.raises(TooManyWaitingTurns):
        await gate.admitted(turn)
    release.set()
    await asyncio.gather(first, *waiting)
    assert gate.waiting == 0


async def test_a_turn_whose_client_gave_up_is_finished_all_the_same() -> None:
    gate = TurnGate(concurrent=1, waiting=10)
    saved: list[str] = []

    async def turn(text: str) -> None:
        await asyncio.sleep(0.1)
        saved.append(text)  # as Rasa saves the tracker at the end of the turn

    async def request(text: str) -> None:  # Sanic's task for one HTTP request
        await gate.finish_in_background(gate.admitted(turn, text))

    first = asyncio.ensure_future(request("第一条"))
    second = asyncio.ensure_future(request("第二条"))  # still waiting for a place
    await asyncio.sleep(0.02)
    first.cancel()  # the clients disconnect
    second.cancel()
    await asyncio.sleep(0.4)
    assert saved == ["第一条", "第二条"]


def test_each_event_loop_has_its_own_gate() -> None:
    async def current() -> TurnGate:
        return gate()

    first, again = asyncio.run(current()), asyncio.run(current())
    assert first is not again  # a semaphore bound to a closed loop is never reused

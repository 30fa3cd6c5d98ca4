"""pos_assistant.action_threads: an action blocked on the database does not hold up the others
(rasa_sdk's own ActionExecutor, real threads)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from pos_assistant import action_threads

released = threading.Event()


# Plain functions, not Action subclasses: register_package("actions") elsewhere registers every
# subclass of Action it can find.
def waits_for_the_database(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list:
    released.wait(timeout=8)  # as a locked SQLite file or an unreachable server would
    dispatcher.utter_message(text="done")
    return []


async def answers(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list:
    await asyncio.sleep(0)  # async actions keep working on the thread's own loop
    dispatcher.utter_message(text="ok")
    return []


def call(name: str) -> dict:
    return {"next_action": name, "tracker": {"sender_id": "threads"}, "domain": {}}


async def test_an_action_waiting_for_the_database_does_not_hold_up_the_others() -> None:
    action_threads.install()
    executor = ActionExecutor()
    executor.register_function("action_waits_for_the_database", waits_for_the_database)
    executor.register_function("action_answers", answers)
    released.clear()
    blocked = asyncio.ensure_future(executor.run(call("action_waits_for_the_database")))
    await asyncio.sleep(0.2)
    answer = await asyncio.wait_for(executor.run(call("action_answers")), timeout=5)
    assert answer["responses"][0]["text"] == "ok"
    assert not blocked.done()
    released.set()
    assert (await blocked)["responses"][0]["text"] == "done"

"""Runs each custom action in a worker thread, off the action server's event loop.

rasa_sdk 3.6 runs every action on its one event loop (`ActionExecutor.run` in
rasa_sdk/executor.py), and the actions call the case store synchronously: one turn waiting for
a locked SQLite file (up to 30 s) or an unreachable PostgreSQL server (5 s connect timeout) held
up every other conversation, also those that never touch the database. Installed by
pos_assistant/action_server.py, this runs each action call in one of ACTION_THREADS threads
(each with its own event loop for the async parts of actions), so a slow database delays only
the turns that wait for it; the Rasa server apologises for those after ACTION_TIMEOUT_SECONDS
(pos_assistant/action_timeouts.py), and a write that was waiting still completes. When all
threads are busy, further calls wait for one (bounded: no unbounded pile of threads).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa_sdk.executor import ActionExecutor

ACTION_THREADS = 8
_INSTALLED_MARK = "_pos_assistant_action_threads"

_original_run = ActionExecutor.run
_pool = ThreadPoolExecutor(max_workers=ACTION_THREADS, thread_name_prefix="action")
_local = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_local, "loop", None)
    if loop is None:
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def _run_in_thread(executor: ActionExecutor, action_call: Any) -> Any:
    return _thread_loop().run_until_complete(_original_run(executor, action_call))


async def _run(self: ActionExecutor, action_call: Any) -> Any:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool, _run_in_thread, self, action_call)


def install() -> None:
    """Installs the thread pool runner (idempotent)."""
    if getattr(ActionExecutor, _INSTALLED_MARK, False):
        return
    ActionExecutor.run = _run  # type: ignore[method-assign]
    setattr(ActionExecutor, _INSTALLED_MARK, True)


def installed() -> bool:
    return bool(getattr(ActionExecutor, _INSTALLED_MARK, False))

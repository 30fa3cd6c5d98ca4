"""Case-store calls with a deadline of their own, in a bounded pool of threads.

The actions call the case store synchronously. The database's own limits (SQLite's busy wait,
PostgreSQL's connect, statement and lock timeouts, the connection pool's wait: all set from
CASE_STORE_TIMEOUT_SECONDS in pos_assistant/db.py) bound most waits, but not a server that
accepted the connection and then answers nothing (a hung process, a dead network path). So each
call runs in one of CASE_STORE_POOL_SIZE threads and the caller waits at most
CASE_STORE_TIMEOUT_SECONDS, time waiting for a free thread included; then it gets
`StoreUnavailable`, which every action already turns into its own apology ("工单系统暂时连不上" …).
The Rasa server's action timeout (ACTION_TIMEOUT_SECONDS) is longer, so the user hears what
failed instead of the general apology, and other users' turns never wait for the database.

A call still queued at its deadline never runs. One already running is not interrupted (Python
cannot): its write may still complete, which the store's duplicate checks allow for (the same
case or handoff asked again is found, not added twice).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from pos_assistant.cases.errors import StoreUnavailable

T = TypeVar("T")

# Attributes whose values are stores of their own: their calls get the same deadline.
_NESTED_STORES = frozenset({"handoffs"})


class StoreDeadline:
    """Runs calls in `threads` threads; a caller waits at most `seconds` for each."""

    def __init__(
        self, seconds: float, threads: int, ready: Callable[[], bool] = lambda: True
    ) -> None:
        self.seconds = seconds
        self._ready = ready
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="case-store")

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._ready():
            # The first call creates the schema, which may take longer than a call may: it is
            # bounded by the database's own limits alone (connect timeout, busy wait).
            return function(*args, **kwargs)
        future = self._pool.submit(function, *args, **kwargs)
        try:
            return future.result(timeout=self.seconds)
        except FutureTimeout:
            future.cancel()  # still queued: it never runs
            raise StoreUnavailable(
                f"case database did not answer within {self.seconds:g} s"
            ) from None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class DeadlineStore:
    """The store's public methods through `deadline`; other attributes as they are."""

    def __init__(self, store: Any, deadline: StoreDeadline) -> None:
        self._store = store
        self._deadline = deadline

    @property
    def unwrapped(self) -> Any:
        return self._store

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if name in _NESTED_STORES:
            return DeadlineStore(value, self._deadline)
        if name.startswith("_") or not callable(value):
            return value
        return functools.partial(self._deadline.call, value)

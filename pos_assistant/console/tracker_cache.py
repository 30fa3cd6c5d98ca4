"""A short-lived cache of conversation trackers for the queue.

Every open event stream rebuilds the queue each second, and each queue entry needs its tracker
(last message, flags): without sharing, N agents watching M conversations would ask Rasa for N×M
trackers a second. Within `max_age_seconds` they share one answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Tracker = dict[str, Any]


class TrackerCache:
    def __init__(self, max_age_seconds: float = 0.9, max_entries: int = 500) -> None:
        self._max_age = max_age_seconds
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Tracker]] = {}
        self._lock = threading.Lock()

    def get(self, conversation_id: str, fetch: Callable[[str], Tracker]) -> Tracker:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(conversation_id)
            if found is not None and now - found[0] < self._max_age:
                return found[1]
        tracker = fetch(conversation_id)  # outside the lock: Rasa may take a while
        with self._lock:
            if len(self._entries) >= self._max_entries:
                cutoff = now - self._max_age
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= cutoff}
                if len(self._entries) >= self._max_entries:
                    self._entries.clear()
            self._entries[conversation_id] = (now, tracker)
        return tracker

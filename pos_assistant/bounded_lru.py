"""A least-recently-used map bounded by the total size of its values (e.g. their events).

The one shape behind the tracker store's session cache (pos_assistant/tracker_cache.py), the
Rasa server's record of sent events (pos_assistant/sent_events.py) and the action server's
kept events (pos_assistant/event_delta.py): each bounds its memory by a number of events
summed over conversations, not by a number of conversations.

Not thread-safe: the session cache is used under the tracker store's lock, the other two only
on their server's event loop.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedLRU(Generic[K, V]):
    """Entries by key; the least recently used go first once their sizes sum over `max_size`
    (or, with `max_entries`, once there are more entries than that).

    A value's size is taken when it is put: take a value out (`pop`) before changing its size.
    """

    def __init__(
        self, max_size: int, size: Callable[[V], int], max_entries: int | None = None
    ) -> None:
        self._max_size = max_size
        self._size = size
        self._max_entries = max_entries
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._total = 0

    def get(self, key: K) -> V | None:
        """The value, now the most recently used (None if absent)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def peek(self, key: K) -> V | None:
        """The value, its recency unchanged (None if absent)."""
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: K, value: V) -> bool:
        """Puts the value as the most recently used, evicting the least recently used ones.

        False if the value alone is larger than `max_size`: it is not kept, the key's old value
        is gone all the same and no other entry is evicted.
        """
        self.pop(key)
        size = self._size(value)
        if size > self._max_size:
            return False
        self._entries[key] = (value, size)
        self._total += size
        while self._total > self._max_size or (
            self._max_entries is not None and len(self._entries) > self._max_entries
        ):
            _, (_, evicted) = self._entries.popitem(last=False)
            self._total -= evicted
        return True

    def pop(self, key: K) -> V | None:
        """Removes the key; its value (None if absent)."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self._total -= entry[1]
        return entry[0]

    def clear(self) -> None:
        self._entries.clear()
        self._total = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[K]:
        """The keys, least recently used first."""
        return iter(self._entries)

    @property
    def total(self) -> int:
        """The sum of the kept values' sizes."""
        return self._total

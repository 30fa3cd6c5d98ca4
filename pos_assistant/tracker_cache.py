"""The current session of recent conversations, kept between turns in the Rasa process.

Rasa's SQLTrackerStore reads, decodes and deserialises every event of the session on every turn,
so a turn costs more the longer the conversation (about 1.7 ms of CPU per earlier turn on this
machine; docs/benchmarks.md). This cache keeps, for each recently active conversation, the
tracker replayed from its stored rows and the id of the last row; a turn reads only the rows
written after it (`id > last_row_id`), whoever wrote them (another Rasa process sharing the
database, the HTTP API), applies them to the cached tracker and gets a copy of it
(pos_assistant/tracker_copy.py).

Events come only from stored rows, never from a live tracker: what a turn sees is exactly what
a full read of the database would give. The cached rows are checked on every read (their number
between the first and the last cached id must not have changed), a new session start in the
new rows makes the next read a full one, and the cache is bounded by its total number of events
(least recently used conversations go first).
"""

from __future__ import annotations

from dataclasses import dataclass

from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from pos_assistant.bounded_lru import BoundedLRU

# About 1 KB per cached event: at most ~20 MB in a Rasa process.
MAX_CACHED_EVENTS = 20_000


@dataclass
class CachedSession:
    """A conversation's current session: the tracker replayed from its stored rows."""

    first_row_id: int
    last_row_id: int
    session_start: float | None  # timestamp of the session's SessionStarted (None: none yet)
    rows: int  # stored rows the tracker was replayed from
    tracker: DialogueStateTracker

    @property
    def size(self) -> int:
        return len(self.tracker.events)


class SessionCache:
    """Least recently used conversations' sessions, bounded by their total number of events."""

    def __init__(self, max_events: int = MAX_CACHED_EVENTS) -> None:
        self._sessions: BoundedLRU[str, CachedSession] = BoundedLRU(
            max_events, lambda session: session.size
        )

    def get(self, sender_id: str) -> CachedSession | None:
        return self._sessions.get(sender_id)

    def put(self, sender_id: str, session: CachedSession) -> None:
        # One conversation larger than the whole cache is not kept: read from the database.
        self._sessions.put(sender_id, session)

    def extend(self, sender_id: str, session: CachedSession, events: list[Event]) -> None:
        """Applies events read after the cached ones (keeps the bound)."""
        self.drop(sender_id)  # out of the cache while its size changes
        for event in events:
            session.tracker.update(event)
        self.put(sender_id, session)

    def drop(self, sender_id: str) -> None:
        self._sessions.pop(sender_id)

    def __len__(self) -> int:
        return len(self._sessions)

    @property
    def events(self) -> int:
        return self._sessions.total

"""The queue's tracker cache: one Rasa call per conversation within its age, bounded in size."""

from __future__ import annotations

import time

from pos_assistant.console.tracker_cache import TrackerCache


def test_trackers_are_shared_within_the_age_and_fetched_again_after_it() -> None:
    calls: list[str] = []

    def fetch(conversation_id: str) -> dict:
        calls.append(conversation_id)
        return {"events": [len(calls)]}

    cache = TrackerCache(max_age_seconds=0.2, max_entries=3)
    assert cache.get("a", fetch) == cache.get("a", fetch) == {"events": [1]}
    assert calls == ["a"]
    time.sleep(0.25)
    assert cache.get("a", fetch) == {"events": [2]}
    for name in "bcdef":
        cache.get(name, fetch)
    assert len(cache._entries) <= 3

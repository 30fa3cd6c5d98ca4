"""The size-bounded least-recently-used map behind the event caches."""

from __future__ import annotations

from pos_assistant.bounded_lru import BoundedLRU


def _lru(max_size: int = 10) -> BoundedLRU[str, list[int]]:
    return BoundedLRU(max_size, len)


def test_the_total_size_is_kept_under_the_cap_oldest_first() -> None:
    lru = _lru()
    lru.put("a", [1] * 4)
    lru.put("b", [2] * 4)
    assert len(lru) == 2 and lru.total == 8
    assert lru.put("c", [3] * 4)  # 12 > 10: "a", the oldest, goes
    assert lru.peek("a") is None and lru.peek("b") == [2] * 4 and lru.peek("c") == [3] * 4
    assert len(lru) == 2 and lru.total == 8


def test_as_many_entries_go_as_the_cap_needs() -> None:
    lru = _lru()
    for key in "abcde":
        lru.put(key, [0, 0])
    assert lru.total == 10 and len(lru) == 5
    lru.put("big", [9] * 7)  # 17: "a", "b", "c", "d" must go, "e" fits
    assert [key for key in "abcde" if lru.peek(key) is not None] == ["e"]
    assert lru.total == 9 and len(lru) == 2


def test_an_entry_exactly_at_the_cap_is_kept_alone() -> None:
    lru = _lru()
    lru.put("a", [1])
    assert lru.put("full", [0] * 10)
    assert lru.peek("a") is None and lru.peek("full") == [0] * 10 and lru.total == 10


def test_get_makes_an_entry_the_most_recently_used() -> None:
    lru = _lru()
    lru.put("a", [1] * 4)
    lru.put("b", [2] * 4)
    assert lru.get("a") == [1] * 4
    lru.put("c", [3] * 4)
    assert lru.peek("b") is None and lru.peek("a") is not None and lru.peek("c") is not None


def test_peek_leaves_the_order_alone() -> None:
    lru = _lru()
    lru.put("a", [1] * 4)
    lru.put("b", [2] * 4)
    assert lru.peek("a") == [1] * 4
    lru.put("c", [3] * 4)
    assert lru.peek("a") is None and lru.peek("b") is not None


def test_putting_a_key_again_replaces_it_and_makes_it_the_most_recent() -> None:
    lru = _lru()
    lru.put("a", [1] * 4)
    lru.put("b", [2] * 4)
    lru.put("a", [1] * 2)
    assert lru.total == 6 and len(lru) == 2
    lru.put("c", [3] * 5)  # 11: "b" goes, not "a"
    assert lru.peek("b") is None and lru.peek("a") == [1] * 2 and lru.total == 7


def test_an_entry_larger_than_the_cap_is_not_kept_and_evicts_nothing() -> None:
    lru = _lru()
    lru.put("a", [1] * 4)
    lru.put("b", [2] * 4)
    assert not lru.put("huge", [0] * 11)
    assert lru.peek("huge") is None
    assert lru.peek("a") is not None and lru.peek("b") is not None and lru.total == 8


def test_an_oversize_value_removes_the_keys_old_value() -> None:
    lru = _lru()
    lru.put("a", [1] * 4)
    lru.put("b", [2] * 4)
    assert not lru.put("a", [0] * 11)
    assert lru.peek("a") is None and lru.peek("b") is not None
    assert len(lru) == 1 and lru.total == 4


def test_pop_removes_and_gives_back_the_value() -> None:
    lru = _lru()
    lru.put("a", [1] * 4)
    lru.put("b", [2] * 3)
    assert lru.pop("a") == [1] * 4
    assert lru.pop("a") is None and lru.pop("never") is None
    assert lru.peek("a") is None and len(lru) == 1 and lru.total == 3


def test_sizes_are_those_when_put() -> None:
    lru = _lru()
    value = [1] * 4
    lru.put("a", value)
    value.extend([1] * 4)  # changed in place: the map still counts 4
    assert lru.total == 4
    assert lru.pop("a") is value and lru.total == 0


def test_clear_empties_it() -> None:
    lru = _lru()
    lru.put("a", [1] * 4)
    lru.put("b", [2] * 4)
    lru.clear()
    assert len(lru) == 0 and lru.total == 0 and lru.get("a") is None
    lru.put("c", [3] * 10)
    assert lru.total == 10


def test_the_size_function_is_the_callers() -> None:
    lru: BoundedLRU[int, dict[str, list[int]]] = BoundedLRU(
        5, lambda calls: sum(len(kept) for kept in calls.values())
    )
    lru.put(1, {"x": [0, 0], "y": [0, 0]})
    assert lru.total == 4
    lru.put(2, {"z": [0, 0]})  # 6 > 5: key 1, of size 4, goes
    assert lru.peek(1) is None and lru.total == 2 and len(lru) == 1


def test_with_max_entries_the_oldest_go_once_there_are_more_and_keys_iterate_oldest_first() -> None:
    lru: BoundedLRU[str, list[int]] = BoundedLRU(100, len, max_entries=3)
    for key in "abcd":
        lru.put(key, [0])
    assert list(lru) == ["b", "c", "d"] and lru.total == 3
    lru.get("b")
    lru.put("e", [0])
    assert list(lru) == ["d", "b", "e"]

"""Overlap checks between character spans in O(log n) each.

A message may hold hundreds of entities ("1块" × 500): checking each candidate against every span
already taken would cost n² steps.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import pairwise

Span = tuple[int, int]


class TakenSpans:
    """Spans [start, end) already taken; `overlaps` is true when a span shares a character."""

    def __init__(self, spans: Iterable[Span] = ()) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        # Disjoint and sorted by start, so the ends are sorted too.
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect_left(self._starts, end) - 1  # the last span starting before `end`
        return index >= 0 and self._ends[index] > start

    def add(self, start: int, end: int) -> None:
        """Adds a span that overlaps none taken so far."""
        index = bisect_left(self._starts, start)
        self._starts.insert(index, start)
        self._ends.insert(index, end)


class SortedSpans:
    """Token spans in text order, none overlapping: which of them share a character with a span."""

    def __init__(self, spans: list[Span]) -> None:
        self._spans = spans
        self._ends = [end for _, end in spans]

    @staticmethod
    def fits(spans: list[Span]) -> bool:
        """Whether `spans` are sorted and disjoint (tokens are), as this class needs."""
        return all(
            previous[1] <= following[0] and previous[0] <= previous[1]
            for previous, following in pairwise(spans)
        )

    def overlapping(self, start: int, end: int) -> range:
        first = bisect_right(self._ends, start)
        last = first
        while last < len(self._spans) and self._spans[last][0] < end:
            last += 1
        return range(first, last)

"""The yes/no reader's "inside another phrase" check answers like the pairwise comparison."""

from __future__ import annotations

import random

from pos_assistant.knowledge.prefill import _Containers


def _inside_any(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in others)


def test_containment_matches_the_pairwise_definition() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        spans = [(start, start + rng.randint(0, 6)) for start in rng.sample(range(40), 8)]
        containers = _Containers(spans)
        for start in range(0, 45, 3):
            span = (start, start + rng.randint(0, 5))
            assert containers.contain(span) == _inside_any(span, spans), (span, spans)


def test_no_containers_contain_nothing() -> None:
    assert not _Containers([]).contain((0, 1))

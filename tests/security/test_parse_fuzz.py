"""Bounded work per message: 5,000 random and adversarial messages up to the 1,000-character limit,
each parsed by the real trained NLU pipeline in-process within a fixed CPU budget.

The messages (tests/security/fuzz_messages.py) are whitespace runs, digit runs in every digit form,
mixed scripts, emoji, control characters, full-width forms and repeated labels (SN, 验证码, 密码,
押金 …) that the regexes react to: what made one "SN" + 20,000 spaces take 40 s.

Each parse is judged by the CPU time it used (all threads of this process): the work the message
causes, which is what blocks other users, and not the time spent waiting while other programs on
a shared machine had the CPU. A message over the bound is parsed twice more and judged by its
cheapest parse; a super-linear path is slow every time. Wall-clock p50 / p99 / max are printed
too (pytest -s); docs/security.md has both.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import structlog

from pos_assistant.channels.heap import freeze_loaded_heap
from tests.e2e.stack import model_under_test
from tests.security.fuzz_messages import MAX_LENGTH, fuzz_messages

MESSAGES = 5000
# A guard against super-linear work, not the speed target: the old serial-number regex alone took
# 32 s. The 50 ms per parse is measured by scripts/compare_parse_cost.py on a quiet
# machine and recorded in docs/security.md (a timed assertion would fail whenever the shared
# machine is busy).
BOUND_SECONDS = 0.100
LONG_MESSAGE_BOUND_SECONDS = 1.0
WARM_UP = ("你好", "SN 88001234AB", "我的电话13812345678", "验证码是483920", "押金两百九十九")


@dataclass
class Timings:
    texts: list[str]
    wall: list[float]  # the first parse of each message, wall clock
    cpu: list[float]  # CPU time of the cheapest of up to three parses
    long_messages: dict[str, tuple[float, float]]  # wall, CPU


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def _measure() -> Timings:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_under_test()))
    freeze_loaded_heap()  # as the Rasa server does once started (pos_assistant/channels/heap.py)
    for text in WARM_UP * 4:
        await agent.parse_message(text)

    async def timed(text: str) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        await agent.parse_message(text)
        return time.perf_counter() - wall, time.process_time() - cpu

    texts = list(fuzz_messages(MESSAGES))
    wall, cpu = [], []
    for text in texts:
        first_wall, used = await timed(text)
        wall.append(first_wall)
        if used >= BOUND_SECONDS:
            used = min([used, (await timed(text))[1], (await timed(text))[1]])
        cpu.append(used)
    # Past the channels' limit, only to show the regex paths stay linear. (Thousands of tokens
    # are another matter: Rasa's DIET grows with their square, "SN " × 5,000 took 5.7 s; the
    # 1,000-character limit is what bounds that.)
    long_messages = {
        "SN + 20,000 spaces": await timed("SN" + " " * 20_000),
        "验证码 + 20,000 full-width digits": await timed("验证码" + "１" * 20_000),
    }
    return Timings(texts, wall, cpu, long_messages)


@pytest.fixture(scope="module")
def timings() -> Iterator[Timings]:
    if not model_under_test().exists():
        pytest.fail(f"{model_under_test()} is missing: run `make train` first")
    # Rasa's debug events would be printed for every parse: only warnings, as in `make run`.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield asyncio.run(_measure())
    finally:
        structlog.reset_defaults()


def test_messages_cover_the_length_limit(timings: Timings) -> None:
    assert len(timings.texts) == MESSAGES
    assert max(map(len, timings.texts)) == MAX_LENGTH
    assert sum(len(text) == MAX_LENGTH for text in timings.texts) > MESSAGES // 4


def test_every_parse_stays_within_the_cpu_budget(timings: Timings) -> None:
    wall = [1000 * seconds for seconds in timings.wall]
    cpu = [1000 * seconds for seconds in timings.cpu]
    print(
        f"\n{MESSAGES} fuzz messages, ms: wall p50 {statistics.median(wall):.1f} "
        f"p99 {_percentile(wall, 0.99):.1f} max {max(wall):.1f}; "
        f"CPU p50 {statistics.median(cpu):.1f} p99 {_percentile(cpu, 0.99):.1f} max {max(cpu):.1f}"
    )
    slow = [
        (round(1000 * seconds, 1), len(text), text[:40])
        for seconds, text in zip(timings.cpu, timings.texts, strict=True)
        if seconds >= BOUND_SECONDS
    ]
    assert slow == [], slow[:10]


def test_a_20000_character_message_parses_fast(timings: Timings) -> None:
    print(
        "\n"
        + "; ".join(
            f"{name}: wall {1000 * wall:.0f} ms, CPU {1000 * cpu:.0f} ms"
            for name, (wall, cpu) in timings.long_messages.items()
        )
    )
    assert all(cpu < LONG_MESSAGE_BOUND_SECONDS for _, cpu in timings.long_messages.values())

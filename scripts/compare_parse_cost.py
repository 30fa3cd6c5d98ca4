"""CPU per parse of the fuzz messages for one or more trained models, under the same load.

The models are loaded in one process, the heap is frozen as the Rasa server freezes it
(pos_assistant/channels/heap.py), and they parse each message in turn (best of two parses each),
so a busy machine slows them alike. The per-parse figures in docs/security.md:

    PYTHONPATH=$PWD .venv/bin/python scripts/compare_parse_cost.py 5000 models/pos-assistant.tar.gz
    PYTHONPATH=$PWD .venv/bin/python scripts/compare_parse_cost.py 500 old.tar.gz new.tar.gz
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import time

import structlog

from pos_assistant.channels.heap import freeze_loaded_heap
from tests.security.fuzz_messages import fuzz_messages

WARM_UP = ("你好", "SN 88001234AB", "押金两百九十九")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def compare(message_count: int, model_paths: list[str]) -> None:
    from rasa.core.agent import Agent

    agents = [Agent.load(path) for path in model_paths]
    freeze_loaded_heap()
    for agent in agents:
        for text in WARM_UP * 4:
            await agent.parse_message(text)
    cpu_ms: list[list[float]] = [[] for _ in agents]
    for text in fuzz_messages(message_count):
        for index, agent in enumerate(agents):
            best = float("inf")
            for _ in range(2):
                started = time.process_time()
                await agent.parse_message(text)
                best = min(best, time.process_time() - started)
            cpu_ms[index].append(1000 * best)
    for path, values in zip(model_paths, cpu_ms, strict=True):
        print(
            f"{path}: CPU ms per parse p50 {statistics.median(values):.1f} "
            f"p99 {_percentile(values, 0.99):.1f} max {max(values):.1f}"
        )


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: compare_parse_cost.py MESSAGE_COUNT MODEL [MODEL ...]")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(compare(int(sys.argv[1]), sys.argv[2:]))

"""Memory of every server during a `make loadtest --duration` soak run.

Each server's resident memory (its whole process tree) is sampled every few seconds. Growth is
measured from the first sample after the warm-up (the first minute or the first tenth of the run,
whichever is shorter: models, caches and connection pools fill up at first) to the last sample.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.servers import Server

SAMPLE_EVERY_SECONDS = 10.0


async def sample_memory(
    servers: list[Server], samples: dict[str, list[tuple[float, float]]], stop: asyncio.Event
) -> None:
    """Appends (seconds since start, RSS MB) per server name until `stop` is set."""
    started = time.monotonic()
    while True:
        elapsed = round(time.monotonic() - started, 1)
        for server in servers:
            samples.setdefault(server.name, []).append((elapsed, server.rss_mb()))
        try:
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY_SECONDS)
            break
        except asyncio.TimeoutError:
            continue
    elapsed = round(time.monotonic() - started, 1)
    for server in servers:
        samples.setdefault(server.name, []).append((elapsed, server.rss_mb()))


def memory_growth(samples: dict[str, list[tuple[float, float]]]) -> dict[str, dict[str, Any]]:
    """Per server: MB after the warm-up, at the end, the growth between them, the most seen."""
    growth: dict[str, dict[str, Any]] = {}
    for name, points in samples.items():
        total = points[-1][0]
        warm_up = min(60.0, total / 10)
        after_warm_up = next((mb for seconds, mb in points if seconds >= warm_up), points[0][1])
        growth[name] = {
            "after_warm_up_mb": after_warm_up,
            "end_mb": points[-1][1],
            "growth_mb": round(points[-1][1] - after_warm_up, 1),
            "max_mb": max(mb for _, mb in points),
            "samples": len(points),
        }
    return growth

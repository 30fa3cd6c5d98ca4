"""Figures of `make bench`: percentiles, summaries, and the Markdown report (docs/benchmarks.md).

Pure functions on plain data, unit-tested without servers (tests/unit/test_bench_report.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` (0..1) percentile with linear interpolation between closest ranks.

    The same definition as numpy's default ("linear"): p50 of [1, 2, 3, 4] is 2.5.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within 0..1, got {fraction}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    weight = position - lower
    return float(ordered[lower] * (1 - weight) + ordered[upper] * weight)


def summarize_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """Latency figures in milliseconds (rounded to 0.1 ms) from durations in seconds."""
    if not seconds:
        return {"n": 0}
    ms = [value * 1000.0 for value in seconds]
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 0.50), 1),
        "p95": round(percentile(ms, 0.95), 1),
        "p99": round(percentile(ms, 0.99), 1),
        "mean": round(sum(ms) / len(ms), 1),
        "max": round(max(ms), 1),
    }


def growth_percent(before: float, after: float) -> float:
    """How much `after` exceeds `before`, in percent (negative when it is lower)."""
    if before <= 0:
        raise ValueError("growth from a non-positive base")
    return round((after / before - 1.0) * 100.0, 1)


def lookup(data: dict[str, Any], path: str) -> Any:
    """`lookup(d, "a.b")` is d["a"]["b"], or None when any part is missing."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def format_value(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip()


def ratio(ours: Any, stock: Any) -> str:
    """ours / stock as "0.42×", or "–" when either side is missing or the base is zero."""
    if not isinstance(ours, int | float) or not isinstance(stock, int | float) or not stock:
        return "–"
    if isinstance(ours, bool) or isinstance(stock, bool):
        return "–"
    return f"{ours / stock:.2f}×"


# (label, path in a peer's figures, unit, lower is better)
PEER_ROWS: list[tuple[str, str, str, bool]] = [
    ("parse p50 (/model/parse)", "parse.p50", "ms", True),
    ("parse p95", "parse.p95", "ms", True),
    ("1 user: turn p50", "single_user.p50", "ms", True),
    ("1 user: turn p95", "single_user.p95", "ms", True),
    ("1 user: turn p99", "single_user.p99", "ms", True),
    ("1 user: turn p50 / parse p50", "single_user.turn_to_parse", "×", True),
    ("one conversation: turns 1–10 p50", "long_conversation.early_p50", "ms", True),
    ("one conversation: turns 100–110 p50", "long_conversation.late_p50", "ms", True),
    ("one conversation: growth 1–10 → 100–110", "long_conversation.growth_percent", "%", True),
    ("20 users at a human pace (3 s pauses): turn p50", "users_20_paced.p50", "ms", True),
    ("20 users at a human pace: turn p99", "users_20_paced.p99", "ms", True),
    ("20 users at a human pace: failed requests", "users_20_paced.errors", "", True),
    ("20 users, no pauses: turn p50", "users_20.p50", "ms", True),
    ("20 users, no pauses: turn p99", "users_20.p99", "ms", True),
    ("20 users, no pauses: throughput", "users_20.throughput", "msg/s", False),
    ("50 users, no pauses: turn p50", "users_50.p50", "ms", True),
    ("50 users, no pauses: turn p99", "users_50.p99", "ms", True),
    ("50 users, no pauses: throughput (saturated)", "users_50.throughput", "msg/s", False),
    ("50 users: failed requests", "users_50.errors", "", True),
    ("50 users: lost / duplicated user events", "users_50.event_problems", "", True),
    ("CPU per message, Rasa server (1 user)", "cpu_ms_per_message.single_user.rasa", "ms", True),
    (
        "CPU per message, action server (1 user)",
        "cpu_ms_per_message.single_user.actions",
        "ms",
        True,
    ),
    (
        "CPU per message, Rasa server (one conversation, 110 turns)",
        "cpu_ms_per_message.long_conversation.rasa",
        "ms",
        True,
    ),
    ("CPU per message, Rasa server (50 users)", "cpu_ms_per_message.users_50.rasa", "ms", True),
    (
        "CPU per message, action server (50 users)",
        "cpu_ms_per_message.users_50.actions",
        "ms",
        True,
    ),
    ("RSS Rasa server (after the run)", "rss_mb.rasa", "MB", True),
    ("RSS action server (after the run)", "rss_mb.actions", "MB", True),
    ("training from nothing: wall-clock", "training.seconds", "s", True),
    ("training from nothing: CPU time", "training.cpu_seconds", "s", True),
]


def peer_table(ours: dict[str, Any], stock: dict[str, Any] | None) -> str:
    """The side-by-side table: every figure as ours, stock, and ours / stock."""
    lines = ["| figure | ours | stock Rasa 3.6 | ours / stock |", "|---|---:|---:|---:|"]
    for label, path, unit, _lower_is_better in PEER_ROWS:
        ours_value = lookup(ours, path)
        stock_value = lookup(stock, path) if stock else None
        lines.append(
            f"| {label} | {format_value(ours_value, unit)} | {format_value(stock_value, unit)} "
            f"| {ratio(ours_value, stock_value)} |"
        )
    return "\n".join(lines)


def scale_table(scale: dict[str, Any]) -> str:
    lines = [
        "| Rasa processes | users | messages | throughput | turn p50 | turn p99 | failed "
        "| Rasa CPU per message |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in sorted(scale):
        row = scale[key]
        lines.append(
            f"| {row.get('processes')} | {row.get('users')} | {row.get('n')} "
            f"| {format_value(row.get('throughput'), 'msg/s')} "
            f"| {format_value(row.get('p50'), 'ms')} | {format_value(row.get('p99'), 'ms')} "
            f"| {row.get('errors')} | {format_value(row.get('rasa_cpu_ms_per_message'), 'ms')} |"
        )
    return "\n".join(lines)


def capacity_plan(
    scale: dict[str, Any], cores: int, message_interval_seconds: float, conversations: int
) -> dict[str, Any] | None:
    """Messages/s per core and Rasa processes needed for `conversations` active at once.

    From the measured CPU per message (Rasa server + action server + database + lock store, all
    from the processes' own CPU time), which does not depend on how loaded the machine was, and
    from the measured throughput of one process (an upper bound for one process on one core).
    """
    rows = [row for row in scale.values() if row.get("cpu_ms_per_message_total")]
    if not rows:
        return None
    best = min(rows, key=lambda row: row["cpu_ms_per_message_total"])
    cpu_ms = best["cpu_ms_per_message_total"]
    rasa_cpu_ms = best.get("rasa_cpu_ms_per_message") or cpu_ms
    per_core = 1000.0 / cpu_ms
    # One Rasa process is single-threaded Python: it cannot use more than one core.
    per_process = min(1000.0 / rasa_cpu_ms, per_core * cores)
    demand = conversations / message_interval_seconds
    # Keep every core below 70 % busy so queues (and p99) stay short.
    headroom = 0.7
    return {
        "cpu_ms_per_message_total": round(cpu_ms, 1),
        "rasa_cpu_ms_per_message": round(rasa_cpu_ms, 1),
        "messages_per_second_per_core": round(per_core, 1),
        "messages_per_second_per_process": round(per_process, 1),
        "conversations": conversations,
        "message_interval_seconds": message_interval_seconds,
        "demand_messages_per_second": round(demand, 1),
        "cores_needed": math.ceil(demand / (per_core * headroom)),
        "processes_needed": math.ceil(demand / (per_process * headroom)),
        "headroom": headroom,
    }

"""Does a turn cost more late in a long conversation? Turns 1–10 against turns 100–110.

Starts an action server and our Rasa server (SQLite tracker store, as `make run`) on free
loopback ports, warms them up, then types `--rounds` conversations of 110 turns (the scripts of
bench/workload.yml one after another, a new sender each round) over REST, one message after the
answer to the previous one. Per round: the p50 turn time of turns 1–10 and of turns 100–110,
and the CPU milliseconds per message of each server over those turns (/proc, the processes' own
accounting).
`--profile` records turns 100–110 of the last round with py-spy (collapsed stacks of both servers
and a flame graph of the Rasa server in results/). Writes results/bench-long.json; the figure of
`make bench` that it repeats quickly is "one conversation: growth 1–10 → 100–110".

  PYTHONPATH=$PWD .venv/bin/python scripts/bench_long.py --rounds 3 [--profile]

`--turns 400 --window 60` types 400 turns and compares the first 60 with the last 60 (much
longer than a support conversation gets: the check that a turn's cost does not grow with it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.load import Workload, new_client, run_users, send  # noqa: E402
from bench.servers import API_TOKEN, REST_TOKEN, VENV_BIN, ProcessGroup, sqlite_endpoints  # noqa: E402

TURNS = 110
EARLY = range(0, 10)
LATE = range(99, 110)


def log(message: str) -> None:
    print(f"[bench-long {time.strftime('%H:%M:%S')}] {message}", flush=True)


def loadavg() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


async def one_conversation(
    url: str,
    sender: str,
    script: list[str],
    servers: dict[str, Any],
    on_late: Any = None,
    late_start: int = LATE.start,
) -> list[dict[str, float]]:
    """Each turn's wall time and the CPU seconds each server spent on it."""
    turns: list[dict[str, float]] = []
    async with new_client() as client:
        for index, text in enumerate(script):
            if index == late_start and on_late is not None:
                on_late()
            before = {name: server.cpu_seconds() for name, server in servers.items()}
            turn = await send(client, url, sender, index, text)
            if not turn.ok:
                raise RuntimeError(f"turn {index} failed: {turn.error}")
            after = {name: server.cpu_seconds() for name, server in servers.items()}
            turns.append({"seconds": turn.seconds, **{n: after[n] - before[n] for n in servers}})
    return turns


def window(turns: list[dict[str, float]], indexes: range, servers: list[str]) -> dict[str, float]:
    chosen = [turns[i] for i in indexes]
    figures = {"turn_p50_ms": round(statistics.median(t["seconds"] for t in chosen) * 1000, 1)}
    for name in servers:
        figures[f"cpu_ms_{name}"] = round(sum(t[name] for t in chosen) * 1000 / len(chosen), 1)
    return figures


def start_profiler(pid: int, seconds: int, output: Path, kind: str) -> subprocess.Popen:
    py_spy = shutil.which("py-spy", path=str(VENV_BIN)) or "py-spy"
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "-p",
            str(pid),
            "-d",
            str(seconds),
            "-r",
            "100",
            "-f",
            kind,
            "-o",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--model", type=Path, default=PROJECT_ROOT / "models" / "pos-assistant.tar.gz"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy turns 100–110 of the last round"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (tracker.db, logs)"
    )
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "results" / "bench-long.json")
    parser.add_argument("--turns", type=int, default=TURNS, help="turns of each conversation")
    parser.add_argument(
        "--window", type=int, default=None, help="compare the first and last N turns"
    )
    args = parser.parse_args()
    early_turns, late_turns = EARLY, LATE
    if args.window is not None or args.turns != TURNS:
        size = args.window or 10
        if not 0 < size <= args.turns // 2:
            parser.error("--window must be between 1 and half of --turns")
        early_turns, late_turns = range(0, size), range(args.turns - size, args.turns)

    workdir = Path(tempfile.mkdtemp(prefix="pos-bench-long-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
        "RASA_TELEMETRY_ENABLED": "false",
        "DATABASE_URL": f"sqlite:///{workdir / 'cases.db'}",
        "RASA_API_TOKEN": API_TOKEN,
        "REST_API_TOKEN": REST_TOKEN,
        "WECHAT_TOKEN": "bench-wechat-token",
    }
    group = ProcessGroup(workdir, env)
    workload = Workload.load(PROJECT_ROOT / "bench" / "workload.yml")
    script = workload.script(0, args.turns)
    results: dict[str, Any] = {
        "loadavg_start": loadavg(),
        "turns": args.turns,
        "early_turns": [early_turns.start + 1, early_turns.stop],
        "late_turns": [late_turns.start + 1, late_turns.stop],
        "rounds": [],
    }
    try:
        actions = group.action_server()
        endpoints = sqlite_endpoints(workdir / "endpoints.yml", actions.url, workdir / "tracker.db")
        rasa = group.rasa_server("rasa", args.model, endpoints, env)
        group.wait_rasa(rasa)
        servers = {"rasa": rasa, "actions": actions}
        log("warm-up")
        asyncio.run(run_users(rasa.url, ["long-warmup"], [workload.script(0, 12)], 300))
        for round_number in range(args.rounds):
            profile = args.profile and round_number == args.rounds - 1
            spies: list[subprocess.Popen] = []

            def start_spies(spies: list[subprocess.Popen] = spies) -> None:
                results_dir = PROJECT_ROOT / "results"
                results_dir.mkdir(exist_ok=True)
                for kind, name in (
                    ("raw", "turn-profile-long.txt"),
                    ("flamegraph", "turn-flamegraph-long.svg"),
                ):
                    spies.append(start_profiler(rasa.pid, 12, results_dir / name, kind))
                spies.append(
                    start_profiler(
                        actions.pid, 12, results_dir / "turn-profile-long-actions.txt", "raw"
                    )
                )

            sender = f"long-{time.strftime('%H%M%S')}-{round_number}"
            turns = asyncio.run(
                one_conversation(
                    rasa.url,
                    sender,
                    script,
                    servers,
                    start_spies if profile else None,
                    late_turns.start,
                )
            )
            for spy in spies:
                spy.wait()
            early = window(turns, early_turns, list(servers))
            late = window(turns, late_turns, list(servers))
            growth = round((late["turn_p50_ms"] / early["turn_p50_ms"] - 1) * 100, 1)
            figures = {"early": early, "late": late, "growth_percent": growth, "loadavg": loadavg()}
            results["rounds"].append(figures)
            log(json.dumps(figures))
        results["rss_mb"] = {"rasa": rasa.rss_mb(), "actions": actions.rss_mb()}
    finally:
        group.stop_all()
    results["loadavg_end"] = loadavg()
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    growths = [r["growth_percent"] for r in results["rounds"]]
    log(f"growth per round: {growths}; median {statistics.median(growths)} %; wrote {args.json}")
    if args.keep:
        log(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

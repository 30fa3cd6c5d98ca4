"""`make loadtest`: the production topology under load (not part of `make test`).

Two Rasa processes on a PostgreSQL tracker store and a Redis lock store behind one address
(bench/proxy.py), the action server, throwaway PostgreSQL and Redis on loopback; USERS
simulated users each type TURNS messages of the fixed conversations in bench/workload.yml,
one after the answer to the previous one. Reports errors and p50/p99, then reads every
conversation back: each message exactly once (0 lost, 0 duplicated), and every turn answered
with at least one reply that is not the apology (utter_assistant_unavailable). Exits 1 when
any of that fails.

    make loadtest                        # 200 users × 10 turns
    make loadtest ARGS="--users 20 --turns 4"
    make loadtest ARGS="--users 50 --duration 1800"   # soak: 30 minutes, memory growth per server

In soak mode every user starts a new conversation (same script) after finishing one, until the
duration is over; the report adds each server's memory after the warm-up, at the end and the
growth between (bench/soak.py), and every conversation is read back as usual.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import report, soak  # noqa: E402
from bench.load import SEQ_METADATA_KEY, Workload, check_trackers, new_client  # noqa: E402
from bench.servers import API_TOKEN, REST_TOKEN, ProcessGroup  # noqa: E402
from tests.pg import new_database  # noqa: E402

MODEL = PROJECT_ROOT / "models" / "pos-assistant.tar.gz"
WORKLOAD = PROJECT_ROOT / "bench" / "workload.yml"
DEADLINE_SECONDS = 1200
APOLOGY = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"][
    "utter_assistant_unavailable"
][0]["text"]


def log(message: str) -> None:
    print(f"loadtest: {time.strftime('%H:%M:%S')} {message}", flush=True)


async def run_users(
    url: str, scripts: dict[str, list[str]], until: float | None, sent: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Every turn: sender, index, seconds, ok, error, replies (texts). Without `until` each user
    types its script once; with it (soak) each starts a new conversation with the same script
    after the last, until `until` (time.monotonic()). `sent` gets every conversation typed."""
    turns: list[dict[str, Any]] = []

    async def conversation(client: httpx.AsyncClient, sender: str, script: list[str]) -> None:
        sent[sender] = script
        for index, text in enumerate(script):
            body = {"sender": sender, "message": text, "metadata": {SEQ_METADATA_KEY: index}}
            started = time.perf_counter()
            turn: dict[str, Any] = {"sender": sender, "index": index, "ok": False, "replies": []}
            try:
                response = await client.post(f"{url}/webhooks/rest/webhook", json=body)
                if response.status_code == 200:
                    turn["replies"] = [r.get("text") or "" for r in response.json()]
                    turn["ok"] = True
                else:
                    turn["error"] = f"HTTP {response.status_code}"
            except (httpx.HTTPError, ValueError) as error:
                turn["error"] = repr(error)
            turn["seconds"] = time.perf_counter() - started
            turns.append(turn)

    async def user(client: httpx.AsyncClient, name: str, script: list[str]) -> None:
        if until is None:
            await conversation(client, name, script)
            return
        for round_number in itertools.count():
            await conversation(client, f"{name}-r{round_number}", script)
            if time.monotonic() >= until:
                return

    deadline = DEADLINE_SECONDS + (max(0.0, until - time.monotonic()) if until else 0.0)
    async with new_client() as client:
        tasks = [asyncio.create_task(user(client, s, script)) for s, script in scripts.items()]
        _, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
    return turns


async def run_measured(
    url: str,
    scripts: dict[str, list[str]],
    duration: float,
    servers: list[Any],
    sent: dict[str, list[str]],
    memory: dict[str, list[tuple[float, float]]],
) -> list[dict[str, Any]]:
    """The users, with every server's memory sampled meanwhile."""
    stop = asyncio.Event()
    sampler = asyncio.create_task(soak.sample_memory(servers, memory, stop))
    until = time.monotonic() + duration if duration > 0 else None
    try:
        return await run_users(url, scripts, until, sent)
    finally:
        stop.set()
        await sampler


def main() -> int:
    parser = argparse.ArgumentParser(prog="make loadtest")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--rasa-processes", type=int, default=2)
    parser.add_argument(
        "--duration",
        type=float,
        default=0,
        help="soak: seconds to keep the users typing (each starts a new conversation after "
        "the last), reporting every server's memory growth; 0: one conversation each",
    )
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "results" / "loadtest.json")
    args = parser.parse_args()
    if not MODEL.exists():
        raise SystemExit(f"{MODEL} is missing: run `make train` first")
    workdir = Path(tempfile.mkdtemp(prefix="pos-loadtest-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_API_TOKEN": API_TOKEN,
        "REST_API_TOKEN": REST_TOKEN,
        "WECHAT_TOKEN": "loadtest-wechat-token",
        # All simulated users come from 127.0.0.1: per-address limits would refuse them.
        "CASES_PER_ADDRESS": "1000000",
        "HANDOFFS_PER_ADDRESS": "1000000",
        "LOOKUP_FAILURES_PER_ADDRESS": "1000000",
    }
    group = ProcessGroup(workdir, env)
    workload = Workload.load(WORKLOAD)
    run_id = time.strftime("%H%M%S")
    scripts = {f"load-{run_id}-{k}": workload.script(k, args.turns) for k in range(args.users)}
    try:
        _, admin_url = group.postgres()
        _, redis_port = group.redis()
        env["DATABASE_URL"] = new_database(admin_url)
        admin = make_url(new_database(admin_url))
        log("starting the action server")
        actions = group.action_server()
        rasa_env = {
            **env,
            "ACTION_ENDPOINT_URL": f"{actions.url}/webhook",
            "TRACKER_DB_HOST": admin.host or "127.0.0.1",
            "TRACKER_DB_PORT": str(admin.port),
            "TRACKER_DB_NAME": admin.database or "",
            "TRACKER_DB_USER": admin.username or "postgres",
            "TRACKER_DB_PASSWORD": admin.password or "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_port),
        }
        log(f"starting {args.rasa_processes} Rasa processes on PostgreSQL + Redis")
        servers = [
            group.rasa_server(
                f"rasa-{index}", MODEL, PROJECT_ROOT / "endpoints.production.yml", rasa_env
            )
            for index in range(args.rasa_processes)
        ]
        for server in servers:
            group.wait_rasa(server)
        proxy = group.proxy([server.url for server in servers])
        log(f"{args.users} users × {args.turns} turns through one address")
        started = time.perf_counter()
        sent: dict[str, list[str]] = {}
        memory: dict[str, list[tuple[float, float]]] = {}
        turns = asyncio.run(
            run_measured(proxy.url, scripts, args.duration, list(group.servers), sent, memory)
        )
        wall = time.perf_counter() - started
        check = asyncio.run(check_trackers(proxy.url, list(sent), [sent[s] for s in sent]))
        unanswered = [t for t in turns if t["ok"] and not any(r.strip() for r in t["replies"])]
        apologies = [t for t in turns if any(APOLOGY in r for r in t["replies"])]
        seconds = [t["seconds"] for t in turns if t["ok"]]
        results = {
            "users": args.users,
            "turns_per_user": args.turns,
            "rasa_processes": args.rasa_processes,
            "soak_seconds": args.duration or None,
            "conversations": len(sent),
            "turns_sent": len(turns),
            "turns_expected": sum(len(script) for script in sent.values()),
            "errors": sum(1 for t in turns if not t["ok"]),
            "latency": report.summarize_ms(seconds),
            "wall_seconds": round(wall, 1),
            "throughput_per_second": round(len(seconds) / wall, 1) if wall else None,
            "lost": check["lost"],
            "duplicated": check["duplicated"],
            "unanswered_turns": len(unanswered),
            "apologies": len(apologies),
            "problems": check["problems"],
            "rss_mb_per_rasa": [server.rss_mb() for server in servers],
            "memory": soak.memory_growth(memory),
            "cores": os.cpu_count(),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        }
    finally:
        group.stop_all()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    passed = (
        results["turns_sent"] == results["turns_expected"]
        and results["errors"] == 0
        and results["lost"] == 0
        and results["duplicated"] == 0
        and results["unanswered_turns"] == 0
        and results["apologies"] == 0
    )
    log("passed" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

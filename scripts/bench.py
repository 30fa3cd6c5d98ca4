"""`make bench`: latency, throughput, CPU and memory of a turn, ours against stock Rasa 3.6.

Starts what it needs on free loopback ports (one action server; our Rasa server, then the stock
one, each on the SQLite tracker store of `make run`; then PostgreSQL + Redis with 1 and 2 Rasa
processes behind a round-robin proxy), runs the fixed workload of bench/workload.yml over REST,
and writes results/bench.json and docs/benchmarks.md. It stops everything it started, and itself
after --max-minutes.

  .venv/bin/python scripts/bench.py            # full run: fresh training of both models, timed
  .venv/bin/python scripts/bench.py --quick    # small counts, the existing model, cached stock
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from bench import profile_summary, report  # noqa: E402
from bench.load import (  # noqa: E402
    PhaseResult,
    Workload,
    check_trackers,
    parse_latencies,
    run_users,
)
from bench.servers import (  # noqa: E402
    API_TOKEN,
    REST_TOKEN,
    VENV_BIN,
    ProcessGroup,
    Server,
    sqlite_endpoints,
)
from tests.pg import new_database  # noqa: E402

WORKLOAD = PROJECT_ROOT / "bench" / "workload.yml"
STOCK_CONFIG = PROJECT_ROOT / "bench" / "stock_config.yml"
STOCK_CACHE = PROJECT_ROOT / "var" / "bench"
OUR_MODEL = PROJECT_ROOT / "models" / "pos-assistant.tar.gz"
# As scripts/train.sh trains our model: no story augmentation (our policies never read it). Stock
# Rasa keeps its default, which its TEDPolicy learns from.
OUR_TRAIN_ARGS = ("--augmentation", "0")
# And with one TensorFlow thread, as scripts/train.sh trains it.
OUR_TRAIN_ENV = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}
# What `rasa train --data data` reads as training data (the other files under data/ are this
# project's own tables, which the stock pipeline never loads).
STOCK_TRAINING_INPUTS = ["domain.yml", "data/nlu", "data/rules", "data/stories"]

# Counts per mode. The long conversation is always 110 turns (turns 100–110 are the figure).
COUNTS = {
    "quick": {
        "parse_rounds": 2,
        "single_conversations": 6,
        "long_turns": 110,
        "long_rounds": 1,
        "users_20_turns": 4,
        "users_50_turns": 4,
        "paced_turns": 6,
        "scale_users": 50,
        "scale_turns": 4,
    },
    "full": {
        "parse_rounds": 10,
        "single_conversations": 36,
        "long_turns": 110,
        "long_rounds": 5,
        "users_20_turns": 15,
        "users_50_turns": 15,
        "paced_turns": 20,
        "scale_users": 50,
        "scale_turns": 12,
    },
}
PHASE_DEADLINE_SECONDS = 600
# 20 people chatting at once, each reading the answer and typing the next message: a pause of
# 3 s on average (exponential), brisk for people typing Chinese on a phone, so the server sees
# about 6 messages/s arriving at random moments.
PACED_USERS = 20
PACED_THINK_SECONDS = 3.0
# Capacity plan: a person in a support chat types a message about every 20 s while active.
MESSAGE_INTERVAL_SECONDS = 20.0
PLANNED_CONVERSATIONS = 1000


class OutOfTime(Exception):
    pass


class StopAfterScale(Exception):
    """--scale-only: the peers are not measured."""


def stop_on_sigterm(_signum: int, _frame: object) -> None:
    # The same clean-up as Ctrl-C: every started server is stopped in `finally`.
    raise KeyboardInterrupt("SIGTERM")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def base_env(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
        "DATABASE_URL": f"sqlite:///{workdir / 'cases.db'}",
        "RASA_API_TOKEN": API_TOKEN,
        "REST_API_TOKEN": REST_TOKEN,
        "WECHAT_TOKEN": "bench-wechat-token",
    }


def train(
    config: Path, out_dir: Path, name: str, env: dict[str, str], extra_args: tuple[str, ...] = ()
) -> dict[str, float]:
    """Trains a model into out_dir from nothing: wall-clock and CPU seconds it took.

    CPU seconds (user + system of `rasa train`) hardly depend on other work on the machine.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (out_dir / f"train-{name}.log").open("w") as out:
        subprocess.run(
            [
                str(VENV_BIN / "rasa"),
                "train",
                "--config",
                str(config),
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--out",
                str(out_dir),
                "--fixed-model-name",
                name,
                "--quiet",
                *extra_args,
            ],
            cwd=PROJECT_ROOT,
            # A cache of its own: "from nothing", not from an earlier training's components.
            env={
                **env,
                "TF_DETERMINISTIC_OPS": "1",
                "RASA_CACHE_DIRECTORY": str(out_dir / "cache"),
            },
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {"seconds": round(time.monotonic() - started, 1), "cpu_seconds": round(cpu, 1)}


def inputs_digest(config: Path) -> str:
    """What the stock model is trained from: its config, the domain and the training data (its
    pipeline lists none of our components, so our code and tables are not part of it)."""
    digest = hashlib.sha256(config.read_bytes())
    for name in STOCK_TRAINING_INPUTS:
        path = PROJECT_ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and file.suffix in {".yml", ".txt", ".py"}:
                digest.update(str(file.relative_to(PROJECT_ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def stock_model(
    workdir: Path, env: dict[str, str], fresh: bool
) -> tuple[Path, dict[str, Any] | None]:
    """The stock model: trained now (fresh), or the cached one for the same inputs."""
    digest = inputs_digest(STOCK_CONFIG)
    cached = STOCK_CACHE / f"stock-{digest}.tar.gz"
    timing = STOCK_CACHE / f"stock-{digest}.json"
    if cached.exists() and not fresh:
        return cached, json.loads(timing.read_text()) if timing.exists() else None
    log("training the stock Rasa 3.6 model (slow: 100 + 100 + 100 epochs)")
    figures = train(STOCK_CONFIG, workdir / "models-stock", "stock", env)
    STOCK_CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copy(workdir / "models-stock" / "stock.tar.gz", cached)
    timing.write_text(json.dumps({**figures, "when": now_iso()}))
    return cached, figures


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class CpuMeter:
    """CPU seconds of some servers between start() and stop(), per message."""

    def __init__(self, servers: dict[str, list[Server]]) -> None:
        self.servers = servers
        self.before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {
            name: sum(server.cpu_seconds() for server in group)
            for name, group in self.servers.items()
        }

    def start(self) -> None:
        self.before = self._now()

    def per_message(self, messages: int) -> dict[str, float]:
        after = self._now()
        return {
            name: round((after[name] - self.before[name]) * 1000 / max(messages, 1), 1)
            for name in after
        }


def phase_figures(result: PhaseResult) -> dict[str, Any]:
    figures = report.summarize_ms(result.ok_seconds)
    figures["errors"] = result.errors
    figures["timed_out"] = result.timed_out
    figures["wall_seconds"] = round(result.wall_seconds, 1)
    ok = len(result.ok_seconds)
    figures["throughput"] = round(ok / result.wall_seconds, 1) if result.wall_seconds else None
    return figures


def measure_peer(
    name: str,
    group: ProcessGroup,
    model: Path,
    actions: Server,
    workload: Workload,
    counts: dict[str, int],
    run_id: str,
    profile_seconds: int,
) -> dict[str, Any]:
    workdir = group.workdir / name
    workdir.mkdir()
    endpoints = sqlite_endpoints(workdir / "endpoints.yml", actions.url, workdir / "tracker.db")
    log(f"{name}: starting the Rasa server ({model.name})")
    # Stock Rasa as shipped: our tracker store module would otherwise install our Rasa patches.
    env = {**group.env, "POS_RASA_PATCHES": "off"} if name == "stock" else group.env
    rasa = group.rasa_server(f"rasa-{name}", model, endpoints, env)
    started = time.monotonic()
    group.wait_rasa(rasa)
    figures: dict[str, Any] = {
        "model": str(model),
        "startup_seconds": round(time.monotonic() - started, 1),
    }
    meter = CpuMeter({"rasa": [rasa], "actions": [actions]})
    url = rasa.url
    prefix = f"bench-{run_id}-{name}"

    # Warm-up (not measured): the first calls build TensorFlow graphs and open connections.
    asyncio.run(
        run_users(url, [f"{prefix}-warmup"], [workload.script(0, 12)], PHASE_DEADLINE_SECONDS)
    )
    asyncio.run(parse_latencies(url, workload.parse_texts, 1))

    log(f"{name}: parse")
    parse = asyncio.run(parse_latencies(url, workload.parse_texts, counts["parse_rounds"]))
    figures["parse"] = report.summarize_ms(parse)

    log(f"{name}: 1 user")
    single = PhaseResult()
    meter.start()
    for index in range(counts["single_conversations"]):
        turns = workload.conversations[index % len(workload.conversations)][1]
        part = asyncio.run(
            run_users(url, [f"{prefix}-single-{index}"], [turns], PHASE_DEADLINE_SECONDS)
        )
        single.turns += part.turns
        single.wall_seconds += part.wall_seconds
    cpu: dict[str, Any] = {"single_user": meter.per_message(len(single.turns))}
    figures["single_user"] = phase_figures(single)
    if figures["parse"].get("p50") and figures["single_user"].get("p50"):
        figures["single_user"]["turn_to_parse"] = round(
            figures["single_user"]["p50"] / figures["parse"]["p50"], 1
        )

    if profile_seconds:
        figures["profile"] = profile_turns(name, rasa, url, workload, prefix, profile_seconds)

    rounds = counts["long_rounds"]
    log(f"{name}: {rounds} conversation(s) of {counts['long_turns']} turns")
    meter.start()
    long_figures: dict[str, Any] = {"errors": 0, "rounds": []}
    sent = 0
    for round_number in range(rounds):
        long_run = asyncio.run(
            run_users(
                url,
                [f"{prefix}-long-{round_number}"],
                [workload.script(0, counts["long_turns"])],
                PHASE_DEADLINE_SECONDS,
            )
        )
        sent += len(long_run.turns)
        long_figures["errors"] += long_run.errors
        by_index = {turn.index: turn.seconds for turn in long_run.turns if turn.ok}
        early = [by_index[i] for i in range(0, 10) if i in by_index]
        late = [by_index[i] for i in range(99, 110) if i in by_index]
        if early and late:
            early_p50 = report.summarize_ms(early)["p50"]
            late_p50 = report.summarize_ms(late)["p50"]
            long_figures["rounds"].append(
                {
                    "early_p50": early_p50,
                    "late_p50": late_p50,
                    "growth_percent": report.growth_percent(early_p50, late_p50),
                }
            )
    cpu["long_conversation"] = meter.per_message(sent)
    # Ten turns a window are few: one round's growth swings by ±20 %. The medians of the rounds.
    if long_figures["rounds"]:
        for figure in ("early_p50", "late_p50", "growth_percent"):
            long_figures[figure] = round(
                statistics.median(r[figure] for r in long_figures["rounds"]), 1
            )
    figures["long_conversation"] = long_figures

    log(f"{name}: {PACED_USERS} users at a human pace × {counts['paced_turns']} turns")
    senders = [f"{prefix}-paced-{k}" for k in range(PACED_USERS)]
    meter.start()
    paced = asyncio.run(
        run_users(
            url,
            senders,
            [workload.script(k, counts["paced_turns"]) for k in range(PACED_USERS)],
            PHASE_DEADLINE_SECONDS,
            think_seconds=PACED_THINK_SECONDS,
        )
    )
    cpu["users_20_paced"] = meter.per_message(len(paced.turns))
    figures["users_20_paced"] = phase_figures(paced)

    for users in (20, 50):
        key = f"users_{users}"
        turns = counts[f"{key}_turns"]
        log(f"{name}: {users} users × {turns} turns")
        senders = [f"{prefix}-{key}-{k}" for k in range(users)]
        scripts = [workload.script(k, turns) for k in range(users)]
        meter.start()
        result = asyncio.run(run_users(url, senders, scripts, PHASE_DEADLINE_SECONDS))
        cpu[key] = meter.per_message(len(result.turns))
        figures[key] = phase_figures(result)
        if users == 50:
            check = asyncio.run(check_trackers(url, senders, scripts))
            figures[key]["tracker_check"] = check
            figures[key]["event_problems"] = check["lost"] + check["duplicated"]
    figures["cpu_ms_per_message"] = cpu
    figures["rss_mb"] = {"rasa": rasa.rss_mb(), "actions": actions.rss_mb()}
    group.stop(rasa)
    return figures


def profile_turns(
    name: str, rasa: Server, url: str, workload: Workload, prefix: str, seconds: int
) -> dict[str, Any]:
    """py-spy on the Rasa server while one user talks: a flame graph and collapsed stacks."""
    py_spy = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
    if py_spy is None:
        log("py-spy not installed (pip install -r requirements-bench.txt): no profile")
        return {"skipped": "py-spy not installed"}
    docs = PROJECT_ROOT / "docs"
    raw_dir = PROJECT_ROOT / "results"
    raw_dir.mkdir(exist_ok=True)
    outputs = {"flamegraph": docs / "turn-flamegraph.svg", "raw": raw_dir / "turn-profile.txt"}
    for kind, output in outputs.items():
        log(f"{name}: profiling {seconds}s with py-spy ({kind})")
        spy = subprocess.Popen(
            [
                py_spy,
                "record",
                "-p",
                str(rasa.pid),
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
        index = 0
        while spy.poll() is None:
            turns = workload.conversations[index % len(workload.conversations)][1]
            asyncio.run(run_users(url, [f"{prefix}-profile-{kind}-{index}"], [turns], 120))
            index += 1
        if spy.returncode != 0:
            return {"skipped": f"py-spy exited with {spy.returncode}"}
    summary = docs / "turn-profile.md"
    summary.write_text(
        "# Where a turn's time goes\n\n"
        f"Written by `make bench ARGS=--profile-seconds={seconds}` on {now_iso()}: py-spy"
        " (`record -r 100 -f raw`) on our Rasa server while one REST user talks (the workload"
        " of bench/workload.yml). Flame graph: docs/turn-flamegraph.svg; collapsed stacks:"
        " results/turn-profile.txt.\n\n"
        + profile_summary.render(profile_summary.read_stacks(outputs["raw"]), "Samples"),
        encoding="utf-8",
    )
    outputs["summary"] = summary
    return {kind: str(path.relative_to(PROJECT_ROOT)) for kind, path in outputs.items()}


def measure_scale(
    group: ProcessGroup,
    model: Path,
    actions: Server,
    workload: Workload,
    counts: dict[str, int],
    run_id: str,
) -> dict[str, Any]:
    """PostgreSQL tracker store + Redis lock store, 1 and then 2 Rasa processes behind a proxy."""
    postgres, admin_url = group.postgres()
    redis_server, redis_port = group.redis()
    admin = make_url(admin_url)
    results: dict[str, Any] = {}
    for processes in (1, 2):
        database = make_url(new_database(admin_url)).database or ""
        env = {
            **group.env,
            "ACTION_ENDPOINT_URL": f"{actions.url}/webhook",
            "TRACKER_DB_HOST": admin.host or "127.0.0.1",
            "TRACKER_DB_PORT": str(admin.port),
            "TRACKER_DB_NAME": database,
            "TRACKER_DB_USER": admin.username or "postgres",
            "TRACKER_DB_PASSWORD": admin.password or "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_port),
        }
        log(f"scale: starting {processes} Rasa process(es) on PostgreSQL + Redis")
        servers = [
            group.rasa_server(
                f"rasa-scale-{processes}-{index}",
                model,
                PROJECT_ROOT / "endpoints.production.yml",
                env,
            )
            for index in range(processes)
        ]
        for server in servers:
            group.wait_rasa(server)
        proxy = group.proxy([server.url for server in servers])
        prefix = f"bench-{run_id}-scale{processes}"
        warm_senders = [f"{prefix}-warmup-{k}" for k in range(processes * 2)]
        asyncio.run(
            run_users(
                proxy.url,
                warm_senders,
                [workload.script(k, 6) for k in range(len(warm_senders))],
                300,
            )
        )
        users, turns = counts["scale_users"], counts["scale_turns"]
        senders = [f"{prefix}-{k}" for k in range(users)]
        scripts = [workload.script(k, turns) for k in range(users)]
        meter = CpuMeter(
            {
                "rasa": servers,
                "actions": [actions],
                "postgres": [postgres],
                "redis": [redis_server],
                "proxy": [proxy],
            }
        )
        log(f"scale: {users} users × {turns} turns through the proxy")
        meter.start()
        result = asyncio.run(run_users(proxy.url, senders, scripts, PHASE_DEADLINE_SECONDS))
        cpu = meter.per_message(len(result.turns))
        figures = phase_figures(result)
        check = asyncio.run(check_trackers(proxy.url, senders, scripts))
        figures.update(
            processes=processes,
            users=users,
            cpu_ms_per_message=cpu,
            rasa_cpu_ms_per_message=cpu["rasa"],
            # What a message costs the machine, the proxy and the load generator left out.
            cpu_ms_per_message_total=round(
                cpu["rasa"] + cpu["actions"] + cpu["postgres"] + cpu["redis"], 1
            ),
            event_problems=check["lost"] + check["duplicated"],
            tracker_check=check,
            rss_mb_per_rasa=[server.rss_mb() for server in servers],
        )
        results[f"processes_{processes}"] = figures
        group.stop(proxy)
        for server in servers:
            group.stop(server)
    group.stop(redis_server)
    group.stop(postgres)
    return results


def write_outputs(results: dict[str, Any], json_path: Path, doc_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    doc_path.write_text(render_markdown(results), encoding="utf-8")


def render_markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    peers = results["peers"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (scripts/bench.py); the raw figures are in results/bench.json.",
        "",
        f"- when: {meta['finished']} (started {meta['started']}), mode `{meta['mode']}`,"
        f" {meta['duration_minutes']} min",
        f"- machine: {meta['cores']} cores, {meta['machine']}; load average"
        f" {meta['loadavg_start']} at the start, {meta['loadavg_end']} at the end"
        " (other work on the machine slows every figure except CPU per message)",
        f"- command: `{meta['command']}`",
        *([f"- note: {meta['note']}"] if meta.get("note") else []),
        "",
        "## How it is measured",
        "",
        "- Everything runs on this machine on loopback ports: one action server, then our Rasa"
        " server and then stock Rasa's, each on the SQLite tracker store of `make run`"
        " (pos_assistant.tracker_store.MaskingSQLTrackerStore) with the same action server.",
        "- The workload is bench/workload.yml: whole conversations of the five situations, FAQs,"
        " a case lookup, a case opened, and chitchat, typed over REST (`/webhooks/rest/webhook`),"
        " each user sending its next message when the answer to the previous one arrived.",
        "- Turn time is the client's time for one REST request (the message in, all replies out);"
        " parse time is `/model/parse` (NLU only).",
        "- 1 user: one conversation after another, each a new sender. One conversation: 110 turns"
        " with one sender (the scripts one after another), five times with a new sender each"
        " time (one in --quick); its figures are the medians of the rounds (a window of ten"
        " turns is few: one round's growth swings by about ±20 %). 20 users at a human pace: each"
        " reads the answer and types for a while (3 s on average, exponential, the same draws"
        " every run) before the next message, about 6 messages/s arriving at random moments:"
        " the latency people see. 20 and 50 users, no pauses: every user sends its next message"
        " the moment the answer arrives, so the server is saturated and the turn time is mostly"
        " queueing (with n users waiting, p50 ≈ n / throughput): these phases measure"
        " throughput (asyncio + httpx; throughput = answered messages / wall time).",
        "- After the 50-user phase every conversation is read back over the HTTP API: each message"
        " sent must be there exactly once.",
        "- CPU per message: the servers' own CPU time (user + system, /proc/<pid>/stat, children"
        " included) over the phase, divided by the messages sent. RSS after the run.",
        "- Stock Rasa 3.6: `rasa init`'s pipeline and policies (bench/stock_config.yml; Rasa's"
        " JiebaTokenizer in place of the WhitespaceTokenizer, which refuses Chinese), trained on"
        " this project's data and domain, served as shipped (POS_RASA_PATCHES=off: Rasa's own"
        " validation of the action server's answers).",
        "",
        "## Ours / stock Rasa 3.6",
        "",
        report.peer_table(peers.get("ours", {}), peers.get("stock")),
        "",
    ]
    if "stock" not in peers:
        lines += ["Stock Rasa was not measured in this run (`--no-stock`).", ""]
    if results.get("stopped_early"):
        lines += [f"**This run stopped early** ({results['stopped_early']}).", ""]
    training = results.get("training", {})
    lines += [
        "Training from nothing (`rasa train` into a temporary folder with an empty cache): "
        + "; ".join(f"{name} {training_text(value)}" for name, value in training.items())
        + ".",
        "",
    ]
    lines += COST_NOTES
    scale = results.get("scale")
    if scale:
        lines += [
            "## Scale: 1 and 2 Rasa processes (PostgreSQL tracker store, Redis lock store)",
            "",
            "The production layout (endpoints.production.yml): Rasa processes behind one address"
            " (a round-robin proxy, bench/proxy.py, so one conversation's messages land on both),"
            " sharing a PostgreSQL tracker store and a Redis lock store, with the same action"
            " server.",
            "",
            report.scale_table(scale),
            "",
        ]
        plan = results.get("capacity_plan")
        if plan:
            lines += capacity_lines(plan, meta["cores"])
    return "\n".join(lines) + "\n"


COST_NOTES = [
    "## What a turn no longer pays for",
    "",
    "Costs of Rasa 3.6 as shipped that our Rasa server removes. pos_assistant/rasa_patches.py"
    " installs them in the Rasa server (`POS_RASA_PATCHES=off` leaves Rasa as shipped: that is"
    " how the stock peer above runs), and each is compared with Rasa's own result in tests/unit."
    " Figures are the Rasa server's CPU per message from `make bench` runs or interleaved A/B"
    " runs on this machine; CPU time barely depends on other work, wall-clock time does.",
    "",
    "| Rasa 3.6 as shipped | ours | where | measured |",
    "|---|---|---|---|",
    "| validates every answer of the action server with `jsonschema.validate` (the schema"
    " checked against the meta-schema, each event tried against 23 alternatives) | the schema"
    " prepared once, each event checked against the alternative it names | rasa_patches.py |"
    " about 140 → 1 ms per call (2026-12-02) |",
    "| TEDPolicy predicts every step | rules and memoization predict all of tests/stories"
    " (`rasa test core`: 47/47 conversations, 318/318 actions) | config.yml | −23 ms per"
    " message (2026-12-02) |",
    "| a model graph run (the NLU pipeline, the policies: four or more a turn) builds and"
    " schedules a dask graph | the nodes run in an order worked out once | graph_runner.py |"
    " 50 users: 30.6 → 35.8–40.9 msg/s, 26.7 → 23.1 ms per message (2026-12-03) |",
    "| RulePolicy checks its rules against every state of the session, and formats them all"
    " into a debug message | stops once no rule can change (414 rules of at most 5 states);"
    " formatted only when logged | rule_lookup.py, rasa_patches.py | flat in the length of"
    " the conversation |",
    "| every turn replays the whole session from the tracker store, and again for each copy"
    " and validation tracker | the tracker store keeps recent sessions and reads only new rows;"
    " copies without replay | tracker_cache.py, tracker_copy.py | turn 100: 218 → about 100 ms"
    " (2026-12-02) |",
    "| dialogue states and applied events rebuilt from the start on every prediction |"
    " continued from the previous prediction | past_states.py, applied_events.py | (same"
    " row) |",
    "| every event of the session JSON-encoded into every action call | only the events the"
    " action server was not sent | sent_events.py, event_delta.py | action server at turn 100:"
    " 28 → 6.4 ms (2026-12-03) |",
    "| the domain (42 KB of JSON) in every action call | named by its digest once the action"
    " server has it | sent_events.py, event_delta.py | see the next row |",
    "| a new TCP connection for every action call | kept-alive connections | action_client.py"
    " | with the rows above and below: 50 users 13.3 → 20.5 msg/s (2026-12-03) |",
    "| SQLite: every commit waits for the disk, every session opens the file, every save"
    " counts the stored rows first | write-ahead log synced at checkpoints, pooled"
    " connections, saves from the count it read | tracker_store.py | (previous row) |",
    "| full garbage collections walk the loaded model | the model's objects frozen after"
    " start-up | channels/heap.py | parse wall max 497 → under 50 ms (2026-12-03) |",
    "| RulePolicy checks the latest state against every one of its 414 rules, three"
    " predictions a turn | only against the rules that require the previous action the"
    " conversation has, or none (indexed once) | rule_lookup.py | with the next four rows:"
    " 50 users, the Rasa server's main thread 27.0–28.9 → 20.7–25.6 ms per message"
    " (interleaved A/B runs, 2026-12-03) |",
    "| the policies get every dialogue state of the session, each copied, and the featurizer"
    " walks them all | only the states they read: MemoizationPolicy its 5, RulePolicy as many"
    " as its longest rule | state_tail.py, past_states.py | (previous row) |",
    "| every tracker copy (before each action, each validation) copies the 33 slots twice"
    " through the copy module | once, as a plain new instance | tracker_copy.py | (previous"
    " row) |",
    "| the lexical model copies its weights (3 MB) for every message | weights stored in the"
    " order scipy multiplies by | nlu/lexical_intent_blender.py | (previous row) |",
    "| each event read back finds its class by walking every Event subclass; each saved"
    " event is an ORM object flushed at commit | a dict by type name; one INSERT for a turn's"
    " rows | event_types.py, tracker_store.py | (previous row) |",
    "| a turn inside a form starts the policies' dialogue states again from the start of the"
    " session (the form takes the turn since its previous execution out of the applied"
    " events), and the copy after a rejected form execution replays the session | the states"
    " are also kept just after the latest loop executions; a rejection leaves the copy a clone"
    " | past_states.py, tracker_copy.py | one 400-turn conversation, Rasa CPU per message at"
    " turns 340–400: 47.5 → 30.3 ms, against 29.5 ms at turns 1–60 (2026-12-03) |",
    "",
    "Long conversations: the growth row above is the median of five rounds, since ten turns"
    " are few. `PYTHONPATH=$PWD .venv/bin/python scripts/bench_long.py --rounds 9` (one REST"
    " user, 110 turns, p50 and CPU of turns 1–10 against 100–110, a new sender each round)"
    " runs more of them (on 2026-12-03 the same script's rounds ranged from −21 % to +16 %,"
    " median +6.0 %). `--turns 400 --window 60` compares the first and last 60 turns of a 400-turn"
    " conversation: Rasa CPU per message 32.2 → 32.5 ms, turn p50 39.6 → 34.6 ms"
    " (2026-12-03 12:00).",
    "",
    "Training: `make train` trains with `--augmentation 0` (MemoizationPolicy and RulePolicy"
    " read the stories as written; their lookups are identical, core training 17.7 → 10.8 s"
    " CPU), and DIET for 20 epochs in batches of 64 at learning rate 0.003 without char_wb"
    " counts, on one TensorFlow thread (5 min 11 s → under 1.5 min from nothing; held-out over"
    " 3 seeds 0.958 / 0.959 → 0.961 / 0.960). Every NLU option measured for training time is"
    ' in docs/nlu-method.md, "Training in under 2 minutes".',
    "",
    "docs/turn-profile.md and docs/turn-flamegraph.svg show where a turn's time goes now"
    " (`make bench ARGS=--profile-seconds=20`).",
    "",
]


def training_text(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    text = f"{value.get('seconds')} s wall-clock, {value.get('cpu_seconds')} s CPU"
    return text + (f" (cached model, trained {value['when']})" if value.get("when") else "")


def capacity_lines(plan: dict[str, Any], cores: int) -> list[str]:
    return [
        "## Capacity plan",
        "",
        f"- One message costs {plan['cpu_ms_per_message_total']} ms of CPU on the machine"
        f" (Rasa server {plan['rasa_cpu_ms_per_message']} ms, the rest action server, PostgreSQL"
        " and Redis): about"
        f" **{plan['messages_per_second_per_core']} messages/s per core** at full load.",
        "- A Rasa process is one Python thread: it uses at most one core, so at most about"
        f" **{plan['messages_per_second_per_process']} messages/s per process**; run one Rasa"
        " process per core (the action server, PostgreSQL and Redis take the rest).",
        f"- {plan['conversations']} conversations at once, each sending a message every"
        f" {plan['message_interval_seconds']:.0f} s, is {plan['demand_messages_per_second']}"
        f" messages/s. Keeping every core below {int(plan['headroom'] * 100)} % busy (short"
        f" queues, p99 stays low) takes about **{plan['cores_needed']} cores** and"
        f" **{plan['processes_needed']} Rasa processes** behind one address.",
        f"- Measured here with {cores} cores shared by the load generator: the throughput with 2"
        " processes is bounded by those 2 cores, not by Rasa; on a larger machine, or across"
        " machines, throughput grows with the number of processes until PostgreSQL (one"
        " connection pool per process) or the action server becomes the limit: add action"
        " servers behind their own address the same way.",
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small counts; no fresh training")
    parser.add_argument(
        "--train",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="time a fresh `rasa train` of both models (default: on unless --quick)",
    )
    parser.add_argument("--no-stock", action="store_true", help="skip the stock Rasa peer")
    parser.add_argument(
        "--cached-stock",
        action="store_true",
        help="use the cached stock model (var/bench) even when training ours fresh",
    )
    parser.add_argument(
        "--scale-only", action="store_true", help="only the PostgreSQL/Redis scale phase"
    )
    parser.add_argument(
        "--no-scale", action="store_true", help="skip the PostgreSQL/Redis scale phase"
    )
    parser.add_argument(
        "--profile-seconds",
        type=int,
        default=0,
        help="py-spy our Rasa server for this long (docs/turn-flamegraph-ours.svg)",
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="our model (default: models/pos-assistant.tar.gz)"
    )
    parser.add_argument("--max-minutes", type=float, default=None, help="stop after this long")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="write --doc again from the figures already in --json (no servers)",
    )
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "results" / "bench.json")
    parser.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    if args.render_only:
        args.doc.write_text(
            render_markdown(json.loads(args.json.read_text(encoding="utf-8"))), encoding="utf-8"
        )
        return 0
    mode = "quick" if args.quick else "full"
    fresh_training = (not args.quick) if args.train is None else args.train
    counts = COUNTS[mode]
    max_minutes = args.max_minutes or (60 if args.quick else 150)

    def out_of_time(_signum: int, _frame: object) -> None:
        raise OutOfTime(f"stopped after {max_minutes} minutes (--max-minutes)")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(max_minutes * 60))
    signal.signal(signal.SIGTERM, stop_on_sigterm)

    started_at, started = now_iso(), time.monotonic()
    loadavg_start = [round(x, 2) for x in os.getloadavg()]
    run_id = time.strftime("%H%M%S")
    workdir = Path(tempfile.mkdtemp(prefix="pos-bench-"))
    workload = Workload.load(WORKLOAD)
    env = base_env(workdir)
    group = ProcessGroup(workdir, env)
    results: dict[str, Any] = {"peers": {}, "training": {}}
    log(f"mode {mode}, work folder {workdir}")
    try:
        our_training: dict[str, Any] | None = None
        if fresh_training:
            log("training our model from nothing (config.yml)")
            our_training = train(
                PROJECT_ROOT / "config.yml",
                workdir / "models-ours",
                "ours",
                {**env, **OUR_TRAIN_ENV},
                OUR_TRAIN_ARGS,
            )
            our_model = workdir / "models-ours" / "ours.tar.gz"
        else:
            our_model = args.model or OUR_MODEL
            if not our_model.exists():
                raise SystemExit(f"{our_model} is missing: run `make train` first")
        results["training"]["ours"] = our_training or "not measured (--quick / --no-train)"
        stock_path, stock_training = None, None
        if not (args.no_stock or args.scale_only):
            stock_path, stock_training = stock_model(
                workdir, env, fresh_training and not args.cached_stock
            )
            results["training"]["stock"] = stock_training or "not measured"
        log("starting the action server")
        actions = group.action_server()
        if args.scale_only:
            results["scale"] = measure_scale(group, our_model, actions, workload, counts, run_id)
            raise StopAfterScale()
        ours = measure_peer(
            "ours", group, our_model, actions, workload, counts, run_id, args.profile_seconds
        )
        ours["training"] = our_training
        results["peers"]["ours"] = ours
        if stock_path is not None:
            stock = measure_peer("stock", group, stock_path, actions, workload, counts, run_id, 0)
            # A cached model's training time is from another run: shown below the table, not
            # compared side by side.
            stock_fresh = fresh_training and not args.cached_stock
            stock["training"] = stock_training if stock_fresh else None
            results["peers"]["stock"] = stock
        if not args.no_scale:
            results["scale"] = measure_scale(group, our_model, actions, workload, counts, run_id)
            results["capacity_plan"] = report.capacity_plan(
                results["scale"],
                os.cpu_count() or 1,
                MESSAGE_INTERVAL_SECONDS,
                PLANNED_CONVERSATIONS,
            )
    except StopAfterScale:
        results["capacity_plan"] = report.capacity_plan(
            results["scale"], os.cpu_count() or 1, MESSAGE_INTERVAL_SECONDS, PLANNED_CONVERSATIONS
        )
    except (OutOfTime, KeyboardInterrupt, Exception) as stop:
        # Whatever was measured so far is still written; the work folder (logs) is kept.
        log(f"stopping early: {stop!r}")
        results["stopped_early"] = repr(stop)
    finally:
        signal.alarm(0)
        group.stop_all()
    results["meta"] = {
        "started": started_at,
        "finished": now_iso(),
        "duration_minutes": round((time.monotonic() - started) / 60, 1),
        "mode": mode,
        "counts": counts,
        "cores": os.cpu_count(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}",
        "loadavg_start": loadavg_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "command": " ".join(["scripts/bench.py", *sys.argv[1:]]),
        "workdir": str(workdir),
    }
    write_outputs(results, args.json, args.doc)
    log(f"wrote {args.json} and {args.doc}")
    if "stopped_early" not in results:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if "stopped_early" in results else 0


if __name__ == "__main__":
    sys.exit(main())

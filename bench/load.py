"""The load generator of `make bench`: simulated REST users (asyncio + httpx), loopback only.

Every request has a timeout and every phase a deadline, so a stuck server ends the phase with
errors counted instead of hanging the run.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.servers import API_TOKEN, REST_TOKEN

REQUEST_TIMEOUT_SECONDS = 60.0
SEQ_METADATA_KEY = "bench_seq"


@dataclass(frozen=True)
class Workload:
    conversations: list[tuple[str, list[str]]]
    parse_texts: list[str]

    @classmethod
    def load(cls, path: Path) -> Workload:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        conversations = [
            (item["name"], [str(t) for t in item["turns"]]) for item in data["conversations"]
        ]
        return cls(conversations, [str(text) for text in data["parse_texts"]])

    def script(self, user_index: int, turns: int) -> list[str]:
        """`turns` messages for user k: the conversations from number k on, one after another."""
        texts: list[str] = []
        position = user_index
        while len(texts) < turns:
            texts.extend(self.conversations[position % len(self.conversations)][1])
            position += 1
        return texts[:turns]


@dataclass
class Turn:
    sender: str
    index: int
    text: str
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class PhaseResult:
    turns: list[Turn] = field(default_factory=list)
    wall_seconds: float = 0.0
    timed_out: bool = False

    @property
    def ok_seconds(self) -> list[float]:
        return [turn.seconds for turn in self.turns if turn.ok]

    @property
    def errors(self) -> int:
        return sum(1 for turn in self.turns if not turn.ok)


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=REQUEST_TIMEOUT_SECONDS,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
        headers={"Authorization": f"Bearer {REST_TOKEN}"},
        trust_env=False,
    )


async def send(client: httpx.AsyncClient, url: str, sender: str, index: int, text: str) -> Turn:
    body = {"sender": sender, "message": text, "metadata": {SEQ_METADATA_KEY: index}}
    started = time.perf_counter()
    try:
        response = await client.post(f"{url}/webhooks/rest/webhook", json=body)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            return Turn(sender, index, text, elapsed, False, f"HTTP {response.status_code}")
        response.json()
        return Turn(sender, index, text, elapsed, True)
    except (httpx.HTTPError, ValueError) as error:
        return Turn(sender, index, text, time.perf_counter() - started, False, repr(error))


async def pause(seconds: float) -> None:
    """A user's pause between messages (replaced in tests)."""
    await asyncio.sleep(seconds)


async def run_users(
    url: str,
    senders: list[str],
    scripts: list[list[str]],
    deadline_seconds: float,
    think_seconds: float = 0.0,
    seed: int = 2611,
) -> PhaseResult:
    """Each sender types its script, one message after the answer to the previous one.

    With `think_seconds`, a user reads the answer and types for a random while (exponential,
    that mean; the same draws every run) before sending the next message, as people do; without
    it every user sends at once, which measures how many messages the server gets through.
    """
    result = PhaseResult()
    pauses = random.Random(seed)

    async def user(client: httpx.AsyncClient, sender: str, script: list[str]) -> None:
        for index, text in enumerate(script):
            if think_seconds:
                await pause(pauses.expovariate(1.0 / think_seconds))
            result.turns.append(await send(client, url, sender, index, text))

    started = time.perf_counter()
    async with new_client() as client:
        tasks = [
            asyncio.create_task(user(client, sender, script))
            for sender, script in zip(senders, scripts, strict=True)
        ]
        done, pending = await asyncio.wait(tasks, timeout=deadline_seconds)
        for task in pending:
            task.cancel()
        result.timed_out = bool(pending)
        for task in done:
            task.result()
    result.wall_seconds = time.perf_counter() - started
    return result


async def parse_latencies(url: str, texts: list[str], rounds: int) -> list[float]:
    seconds: list[float] = []
    async with new_client() as client:
        for _ in range(rounds):
            for text in texts:
                started = time.perf_counter()
                response = await client.post(
                    f"{url}/model/parse", params={"token": API_TOKEN}, json={"text": text}
                )
                response.raise_for_status()
                seconds.append(time.perf_counter() - started)
    return seconds


async def fetch_tracker(client: httpx.AsyncClient, url: str, conversation_id: str) -> dict:
    response = await client.get(
        f"{url}/conversations/{conversation_id}/tracker", params={"token": API_TOKEN}
    )
    response.raise_for_status()
    return response.json()


async def check_trackers(url: str, senders: list[str], scripts: list[list[str]]) -> dict[str, Any]:
    """Reads every conversation back over the HTTP API: each message sent is there exactly once.

    Messages are matched by the sequence number sent in their metadata; a channel that drops
    client metadata is matched by position and text instead (texts with digits are stored
    masked, so for those only the position counts).
    """
    lost = duplicated = 0
    problems: list[str] = []
    async with new_client() as client:
        for sender, script in zip(senders, scripts, strict=True):
            user_events: list[dict] = []
            # The project's REST channel namespaces conversation ids ("rest:<sender>").
            for conversation_id in (sender, f"rest:{sender}"):
                tracker = await fetch_tracker(client, url, conversation_id)
                user_events = [e for e in tracker.get("events", []) if e.get("event") == "user"]
                if user_events:
                    break
            seqs = [(e.get("metadata") or {}).get(SEQ_METADATA_KEY) for e in user_events]
            if all(seq is not None for seq in seqs) and seqs:
                counts = {index: seqs.count(index) for index in range(len(script))}
                sender_lost = sum(1 for count in counts.values() if count == 0)
                sender_dup = sum(count - 1 for count in counts.values() if count > 1)
            else:
                texts = [e.get("text") or "" for e in user_events]
                sender_lost = max(0, len(script) - len(texts))
                sender_dup = max(0, len(texts) - len(script))
                for sent, stored in zip(script, texts, strict=False):
                    if sent != stored and not any(ch.isdigit() for ch in sent):
                        problems.append(f"{sender}: sent {sent!r}, stored {stored!r}")
            if sender_lost or sender_dup:
                problems.append(f"{sender}: {sender_lost} lost, {sender_dup} duplicated")
            lost += sender_lost
            duplicated += sender_dup
    return {"lost": lost, "duplicated": duplicated, "problems": problems[:20]}

"""Runs the dialogue test set (tests/dialogue/*.yml) through the real servers and scores it.

Each conversation is sent turn by turn over the REST channel to a real Rasa server and action
server (tests/e2e/stack.py starts them, or --rasa-url points at running ones). A turn is right when
every reply text (with button titles) contains everything in `must` (an item that is a list means
"any one of these"), nothing in `must_not`, and none of the questions named in `must_not_ask`
(the text of the domain's `utter_ask_<name>`). A conversation is right when all its turns are.

Prints a table by kind and writes results/dialogue_eval.json (with every failed turn).
Usage: `make eval-dialogue`, or `.venv/bin/python scripts/eval_dialogue.py [--rasa-url URL]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

DIALOGUE_DIR = PROJECT_ROOT / "tests" / "dialogue"
RESULTS_FILE = PROJECT_ROOT / "results" / "dialogue_eval.json"
# The nine kinds of dialogue problem the set covers, in the order the report lists them.
KINDS = (
    "forgetting",
    "asked_again",
    "follow_up",
    "refund_scam",
    "two_questions",
    "case_form",
    "handoff",
    "emotion_dialect",
    "repetition_length",
)


class DialogueSetError(ValueError):
    """A conversation file is malformed."""


@dataclass
class Turn:
    user: str
    must: list[Any] = field(default_factory=list)
    must_not: list[str] = field(default_factory=list)
    must_not_ask: list[str] = field(default_factory=list)


@dataclass
class Conversation:
    id: str
    persona: str
    kinds: list[str]
    turns: list[Turn]
    file: str


def load_conversations(directory: Path = DIALOGUE_DIR) -> list[Conversation]:
    conversations: list[Conversation] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise DialogueSetError(f"{path.name}: expected a list of conversations")
        for i, raw in enumerate(data):
            where = f"{path.name}[{i}]"
            kinds = raw.get("kinds") or ([raw["kind"]] if raw.get("kind") else [])
            if not kinds or any(kind not in KINDS for kind in kinds):
                raise DialogueSetError(f"{where}: kinds must be from {KINDS}, got {kinds}")
            if not raw.get("persona") or not raw.get("turns"):
                raise DialogueSetError(f"{where}: persona and turns are required")
            conversation_id = str(raw.get("id") or f"{path.stem}-{i + 1}")
            if conversation_id in seen:
                raise DialogueSetError(f"{where}: id {conversation_id} used twice")
            seen.add(conversation_id)
            turns = []
            for j, turn in enumerate(raw["turns"]):
                if not isinstance(turn, dict) or not str(turn.get("user") or "").strip():
                    raise DialogueSetError(f"{where}.turns[{j}]: `user` is required")
                unknown = set(turn) - {"user", "must", "must_not", "must_not_ask"}
                if unknown:
                    raise DialogueSetError(f"{where}.turns[{j}]: unknown keys {sorted(unknown)}")
                turns.append(
                    Turn(
                        user=str(turn["user"]),
                        must=list(turn.get("must") or []),
                        must_not=[str(x) for x in turn.get("must_not") or []],
                        must_not_ask=[str(x) for x in turn.get("must_not_ask") or []],
                    )
                )
            conversations.append(
                Conversation(conversation_id, str(raw["persona"]), kinds, turns, path.name)
            )
    return conversations


def question_texts(domain: dict[str, Any], name: str) -> list[str]:
    """The texts of utter_ask_<name> (the question the assistant asks for that slot)."""
    variants = domain.get("responses", {}).get(f"utter_ask_{name}") or []
    texts = [v["text"] for v in variants if v.get("text")]
    if not texts:
        raise DialogueSetError(f"must_not_ask names {name!r}, which has no utter_ask_{name}")
    return texts


def check_turn(turn: Turn, reply: str, domain: dict[str, Any]) -> list[str]:
    """What is wrong with `reply` for this turn (empty when it is right)."""
    problems = []
    for expected in turn.must:
        options = [str(x) for x in expected] if isinstance(expected, list) else [str(expected)]
        if not any(option in reply for option in options):
            problems.append(f"missing {' | '.join(options)!r}")
    problems += [f"has {bad!r}" for bad in turn.must_not if bad in reply]
    for name in turn.must_not_ask:
        if any(text in reply for text in question_texts(domain, name)):
            problems.append(f"asked {name} again")
    return problems


def reply_text(replies: list[dict]) -> str:
    parts: list[str] = []
    for reply in replies:
        if reply.get("text"):
            parts.append(reply["text"])
        parts.extend(button.get("title", "") for button in reply.get("buttons") or [])
    return "\n".join(parts)


def run_set(
    send: Callable[[str, str], list[dict]], conversations: list[Conversation], domain: dict
) -> dict[str, Any]:
    """Sends every conversation (a fresh sender each) and scores it."""
    results = []
    for conversation in conversations:
        sender = f"eval-{conversation.id}-{uuid.uuid4().hex[:8]}"
        turns = []
        for number, turn in enumerate(conversation.turns, 1):
            reply = reply_text(send(sender, turn.user))
            problems = check_turn(turn, reply, domain)
            turns.append(
                {
                    "turn": number,
                    "user": turn.user,
                    "ok": not problems,
                    "problems": problems,
                    "reply": reply if problems else "",
                }
            )
        results.append(
            {
                "id": conversation.id,
                "file": conversation.file,
                "persona": conversation.persona,
                "kinds": conversation.kinds,
                "ok": all(t["ok"] for t in turns),
                "turns": turns,
            }
        )
    return summarize(results)


def summarize(results: list[dict]) -> dict[str, Any]:
    def share(items: list[bool]) -> float | None:
        return round(sum(items) / len(items), 4) if items else None

    by_kind = {}
    for kind in KINDS:
        chosen = [r for r in results if kind in r["kinds"]]
        turn_oks = [t["ok"] for r in chosen for t in r["turns"]]
        by_kind[kind] = {
            "conversations": len(chosen),
            "conversations_right": share([r["ok"] for r in chosen]),
            "turns": len(turn_oks),
            "turns_right": share(turn_oks),
        }
    all_turns = [t["ok"] for r in results for t in r["turns"]]
    return {
        "conversations": len(results),
        "conversations_right": share([r["ok"] for r in results]),
        "turns": len(all_turns),
        "turns_right": share(all_turns),
        "by_kind": by_kind,
        "failures": [r for r in results if not r["ok"]],
    }


def format_table(summary: dict[str, Any]) -> str:
    def pct(value: float | None) -> str:
        return "   -  " if value is None else f"{value * 100:5.1f}%"

    lines = [f"{'kind':20s} {'convs':>5s} {'right':>7s} {'turns':>5s} {'right':>7s}"]
    for kind, row in summary["by_kind"].items():
        lines.append(
            f"{kind:20s} {row['conversations']:5d} {pct(row['conversations_right']):>7s} "
            f"{row['turns']:5d} {pct(row['turns_right']):>7s}"
        )
    lines.append(
        f"{'all':20s} {summary['conversations']:5d} {pct(summary['conversations_right']):>7s} "
        f"{summary['turns']:5d} {pct(summary['turns_right']):>7s}"
    )
    return "\n".join(lines)


def evaluate(rasa_url: str | None = None) -> dict[str, Any]:
    import httpx

    from tests.e2e.stack import running_stack

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    conversations = load_conversations()

    def sender_for(url: str) -> Callable[[str, str], list[dict]]:
        def send(sender: str, text: str) -> list[dict]:
            body = {"sender": sender, "message": text}
            response = httpx.post(f"{url}/webhooks/rest/webhook", json=body, timeout=120)
            response.raise_for_status()
            return response.json()

        return send

    if rasa_url:
        return run_set(sender_for(rasa_url), conversations, domain)
    with tempfile.TemporaryDirectory(prefix="eval-dialogue-") as workdir:
        with running_stack(Path(workdir)) as stack:
            return run_set(sender_for(stack.rasa_url), conversations, domain)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-url", help="a running Rasa server (default: start one)")
    args = parser.parse_args()
    summary = evaluate(args.rasa_url)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print(format_table(summary))
    for failure in summary["failures"]:
        for turn in failure["turns"]:
            if not turn["ok"]:
                print(
                    f"- {failure['id']} turn {turn['turn']} {turn['user']!r}: "
                    f"{'; '.join(turn['problems'])}"
                )
    print(f"written to {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make eval`: held-out NLU evaluation of the trained model against a simple baseline.

Parses every message of tests/nlu/heldout_nlu.yml with the trained model (rasa Agent) and reports
intent accuracy and macro-F1, what each intent is confused with, entity precision/recall per type
(exact type + value), parse latency, and how often off-topic messages land in a dispute intent with
high confidence. The baseline (character 1-3-gram TF-IDF + logistic regression) is trained on the
same data/nlu in this run. Writes results/nlu_eval.json and docs/nlu-eval.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pos_assistant.nlu.lexical_intent_blender import build_lexical_model
from pos_assistant.situations import situations

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED = 2611
ID_ENTITIES = ("case_number", "phone_number", "tracking_number", "device_sn")
ALL_ENTITIES = (*ID_ENTITIES, "brand", "amount")
DISPUTE_INTENTS = frozenset(entry.intent for entry in situations().entries)
OFF_TOPIC_INTENT = "out_of_scope"
HIGH_CONFIDENCE = 0.7
WARM_UP_MESSAGES = 10


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[tuple[str, str], ...]


def load_examples(path: Path) -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        Example(
            text=message.get("text"),
            intent=message.get("intent"),
            entities=tuple(
                (entity["entity"], str(entity["value"])) for entity in message.get("entities", [])
            ),
        )
        for message in data.intent_examples
    ]


def intent_figures(examples: list[Example], predicted: list[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score

    truth = [example.intent for example in examples]
    labels = sorted(set(truth))
    confusions: dict[str, Counter[str]] = defaultdict(Counter)
    for expected, got in zip(truth, predicted, strict=True):
        if expected != got:
            confusions[expected][got] += 1
    per_intent_f1 = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
        "per_intent_f1": {
            label: round(float(f1), 4) for label, f1 in zip(labels, per_intent_f1, strict=True)
        },
        "confusions": {intent: dict(counter) for intent, counter in sorted(confusions.items())},
    }


def entity_figures(examples: list[Example], predicted: list[list[tuple[str, str]]]) -> dict:
    counts = {kind: Counter() for kind in ALL_ENTITIES}
    mistakes: list[dict[str, Any]] = []
    for example, found in zip(examples, predicted, strict=True):
        expected = Counter(example.entities)
        got = Counter(found)
        for (kind, _value), number in (expected & got).items():
            counts.setdefault(kind, Counter())["tp"] += number
        for (kind, _value), number in (got - expected).items():
            counts.setdefault(kind, Counter())["fp"] += number
        for (kind, _value), number in (expected - got).items():
            counts.setdefault(kind, Counter())["fn"] += number
        if expected != got:
            mistakes.append(
                {
                    "text": example.text,
                    "missed": sorted(expected - got),
                    "wrong": sorted(got - expected),
                }
            )

    def summary(kinds: tuple[str, ...]) -> dict[str, Any]:
        tp = sum(counts[kind]["tp"] for kind in kinds)
        fp = sum(counts[kind]["fp"] for kind in kinds)
        fn = sum(counts[kind]["fn"] for kind in kinds)
        return {
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
        }

    return {
        "per_type": {kind: summary((kind,)) for kind in counts},
        "id_entities": summary(ID_ENTITIES),
        "mistakes": mistakes,
    }


def off_topic_figures(examples: list[Example], parses: list[dict[str, Any]]) -> dict[str, Any]:
    off_topic = [
        parse for example, parse in zip(examples, parses, strict=True)
        if example.intent == OFF_TOPIC_INTENT
    ]  # fmt: skip
    landed = [
        parse["text"]
        for parse in off_topic
        if parse["intent"]["name"] in DISPUTE_INTENTS
        and parse["intent"]["confidence"] >= HIGH_CONFIDENCE
    ]
    return {
        "messages": len(off_topic),
        "in_dispute_intent_with_high_confidence": len(landed),
        "share": round(len(landed) / len(off_topic), 4) if off_topic else None,
        "examples": landed,
    }


def baseline_predictions(train: list[Example], heldout: list[Example]) -> list[str]:
    """Character 1-3-gram TF-IDF + logistic regression on the raw text (the blender's model)."""
    model = build_lexical_model(max_ngram=3, regularization_strength=10.0, random_seed=SEED)
    model.fit([example.text for example in train], [example.intent for example in train])
    return list(model.predict([example.text for example in heldout]))


def write_nlu_config(
    config_path: Path, out_path: Path, overrides: dict[str, dict[str, Any]]
) -> Path:
    """config.yml without its policies, with `overrides` merged into the named components."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        component.update(overrides.get(component["name"], {}))
    config.pop("policies", None)
    out_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return out_path


async def parse_all(model_path: Path, texts: list[str]) -> tuple[list[dict], list[float]]:
    """Parses of `texts` by the model, and each parse's latency after a warm-up."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    for text in texts[:WARM_UP_MESSAGES]:
        await agent.parse_message(text)
    parses: list[dict] = []
    latencies_ms: list[float] = []
    for text in texts:
        started = time.perf_counter()
        parse = await agent.parse_message(text)
        latencies_ms.append((time.perf_counter() - started) * 1000)
        parses.append(parse)
    return parses, latencies_ms


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return round(ordered[index], 1)


def markdown_report(report: dict[str, Any]) -> str:
    model, baseline = report["model"], report["baseline"]
    lines = [
        "# NLU evaluation (held-out set)",
        "",
        f"Generated by `make eval` (scripts/evaluate_nlu.py) on {report['generated']}: "
        f"{report['heldout_messages']} held-out messages (tests/nlu/heldout_nlu.yml), "
        f"{report['training_messages']} training messages (data/nlu). Fixed seeds.",
        "",
        "| figure | pipeline (config.yml) | baseline: char 1-3-gram TF-IDF + LogReg |",
        "|---|---|---|",
        f"| intent accuracy | {model['intents']['accuracy']:.3f} | "
        f"{baseline['intents']['accuracy']:.3f} |",
        f"| intent macro-F1 | {model['intents']['macro_f1']:.3f} | "
        f"{baseline['intents']['macro_f1']:.3f} |",
        f"| off-topic messages in a dispute intent with confidence ≥ {HIGH_CONFIDENCE} | "
        f"{model['off_topic']['in_dispute_intent_with_high_confidence']}/"
        f"{model['off_topic']['messages']} | n/a |",
        f"| messages answered nlu_fallback | {model['fallback_count']} | n/a |",
        f"| messages forced to report_suspicious_call by SafetyGuard | "
        f"{model['safety_guard_count']} | n/a |",
        f"| parse latency p50 / p95 (ms, in-process, after warm-up) | "
        f"{model['latency_ms']['p50']} / {model['latency_ms']['p95']} | n/a |",
        "",
        "## Entities (exact type + value)",
        "",
        "| entity | precision | recall | TP | FP | FN |",
        "|---|---|---|---|---|---|",
    ]
    rows = {**model["entities"]["per_type"], "all ID entities": model["entities"]["id_entities"]}
    for kind, figures in rows.items():
        if not any(
            figures[key] for key in ("true_positives", "false_positives", "false_negatives")
        ):
            continue
        precision = "–" if figures["precision"] is None else f"{figures['precision']:.3f}"
        recall = "–" if figures["recall"] is None else f"{figures['recall']:.3f}"
        lines.append(
            f"| {kind} | {precision} | {recall} | {figures['true_positives']} | "
            f"{figures['false_positives']} | {figures['false_negatives']} |"
        )
    lines += ["", "## Intent confusions (pipeline)", "", "| intent | F1 | confused with |"]
    lines.append("|---|---|---|")
    for intent, f1 in model["intents"]["per_intent_f1"].items():
        confused = model["intents"]["confusions"].get(intent, {})
        text = ", ".join(f"{other} ×{count}" for other, count in confused.items()) or "–"
        lines.append(f"| {intent} | {f1:.3f} | {text} |")
    lines += [
        "",
        "## Reading the figures",
        "",
        "- An `nlu_fallback` answer counts as a wrong intent. SafetyGuard overrides count as the "
        "model's answer (they are what the assistant acts on).",
        "- Entities are compared as (type, value) pairs per message; positions are checked by "
        "tests/e2e/test_nlu_heldout.py.",
        "- Latency is `Agent.parse_message` in one process after a warm-up, NLU only; the HTTP "
        "server adds its own overhead.",
        "- The baseline sees the raw text and is retrained on every run with a fixed seed.",
        "- Per-message errors are listed in results/nlu_eval.json (`intent_errors`).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models/pos-assistant.tar.gz")
    parser.add_argument("--heldout", type=Path, default=PROJECT_ROOT / "tests/nlu/heldout_nlu.yml")
    parser.add_argument("--training-data", type=Path, default=PROJECT_ROOT / "data/nlu")
    parser.add_argument("--json-out", type=Path, default=PROJECT_ROOT / "results/nlu_eval.json")
    parser.add_argument("--markdown-out", type=Path, default=PROJECT_ROOT / "docs/nlu-eval.md")
    args = parser.parse_args()

    if not args.model.is_file():
        print(f"error: {args.model} does not exist: run `make train` first", file=sys.stderr)
        return 1
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    random.seed(SEED)

    import numpy as np

    np.random.seed(SEED)

    train = load_examples(args.training_data)
    heldout = load_examples(args.heldout)
    baseline = baseline_predictions(train, heldout)
    parses, latencies = asyncio.run(parse_all(args.model, [example.text for example in heldout]))

    predicted_intents = [parse["intent"]["name"] for parse in parses]
    predicted_entities = [
        [(entity["entity"], str(entity["value"])) for entity in parse.get("entities", [])]
        for parse in parses
    ]
    report: dict[str, Any] = {
        "generated": time.strftime("%Y-%m-%d"),
        "model_path": str(args.model),
        "heldout_messages": len(heldout),
        "training_messages": len(train),
        "model": {
            "intents": intent_figures(heldout, predicted_intents),
            "entities": entity_figures(heldout, predicted_entities),
            "off_topic": off_topic_figures(heldout, parses),
            "fallback_count": predicted_intents.count("nlu_fallback"),
            "safety_guard_count": sum(1 for parse in parses if parse.get("safety_guard")),
            "latency_ms": {
                "p50": percentile(latencies, 0.5),
                "p95": percentile(latencies, 0.95),
                "mean": round(statistics.fmean(latencies), 1),
            },
            "intent_errors": [
                {
                    "text": example.text,
                    "expected": example.intent,
                    "predicted": parse["intent"]["name"],
                    "confidence": round(float(parse["intent"]["confidence"]), 3),
                    "ranking": [
                        (ranked["name"], round(float(ranked["confidence"]), 3))
                        for ranked in parse.get("intent_ranking", [])[:3]
                    ],
                }
                for example, parse in zip(heldout, parses, strict=True)
                if example.intent != parse["intent"]["name"]
            ],
        },
        "baseline": {"intents": intent_figures(heldout, baseline)},
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    args.markdown_out.parent.mkdir(parents=True, exist_ok=True)
    args.markdown_out.write_text(markdown_report(report), encoding="utf-8")
    print(markdown_report(report))
    print(f"\nwritten: {args.json_out}, {args.markdown_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

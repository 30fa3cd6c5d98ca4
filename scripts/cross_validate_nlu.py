"""Stratified k-fold cross-validation of the NLU pipeline on the training data only.

For choosing pipeline settings without touching the held-out set: each fold trains the NLU part
of config.yml on the other folds and parses the fold. LexicalIntentBlender runs with
`report_sources: true`, so every blend weight (--weights) and fallback threshold (--thresholds) is
scored from the same trainings; the SafetyGuard / frustration overrides apply as in the pipeline.
"confidently wrong" counts wrong answers that were not nlu_fallback: the ones the assistant would
act on. Writes results/nlu_cv.json (with every fold message's parse, which --from-parses reuses
to score other settings without training again) and prints a table.

    .venv/bin/python scripts/cross_validate_nlu.py --folds 5
    .venv/bin/python scripts/cross_validate_nlu.py --from-parses results/nlu_cv.json \
        --weights 0.5 0.6 --thresholds 0.2 0.3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from evaluate_nlu import parse_all, write_nlu_config

from pos_assistant.nlu.lexical_intent_blender import blend
from pos_assistant.situations import situations

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SEED = 2611
BLENDER = "pos_assistant.nlu.lexical_intent_blender.LexicalIntentBlender"
SAFETY_INTENT = situations().scam.intent
FRUSTRATION_INTENT = "request_human"


def fold_config(config_path: Path, directory: Path) -> Path:
    """config.yml with the blender reporting its sources (NLU pipeline only)."""
    names = [c["name"] for c in yaml.safe_load(config_path.read_text(encoding="utf-8"))["pipeline"]]
    if BLENDER not in names:
        raise SystemExit(f"{config_path} has no {BLENDER}: nothing to cross-validate")
    return write_nlu_config(
        config_path, directory / "config.yml", {BLENDER: {"report_sources": True}}
    )


def ambiguity_setting(config_path: Path) -> float:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == "FallbackClassifier":
            return float(component.get("ambiguity_threshold", 0.1))
    return 0.0


def final_intent(parse: dict[str, Any], weight: float, fallback: tuple[float, float]) -> str:
    """The intent the pipeline would answer with this blend weight and (threshold, ambiguity)."""
    if parse.get("safety_guard"):
        return SAFETY_INTENT
    if parse.get("frustration_detected"):
        return FRUSTRATION_INTENT
    sources = parse.get("intent_sources")
    if not sources:  # nothing to blend (e.g. an empty message): the pipeline's own answer
        return parse["intent"]["name"]
    scores = blend(sources["neural"], sources["lexical"], weight)
    top, second = [*sorted(scores.values(), reverse=True), 0.0, 0.0][:2]
    threshold, ambiguity = fallback
    if top < threshold or top - second < ambiguity:
        return "nlu_fallback"
    return max(scores, key=scores.__getitem__)


def run_fold(config: Path, train_yaml: Path, output: Path, texts: list[str]) -> list[dict]:
    from rasa.model_training import train_nlu

    model_path = train_nlu(
        config=str(config), nlu_data=str(train_yaml), output=str(output), fixed_model_name="fold"
    )
    if not model_path:
        raise SystemExit("training failed")
    return asyncio.run(parse_all(Path(model_path), texts))[0]


def scores(truth: list[str], predicted: list[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(truth))
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
        "fallbacks": predicted.count("nlu_fallback"),
        "confidently_wrong": sum(
            1
            for expected, got in zip(truth, predicted, strict=True)
            if got not in (expected, "nlu_fallback")
        ),
    }


def cross_validated_parses(
    config_path: Path, training_data: Path, folds: int
) -> list[dict[str, Any]]:
    """Every training message parsed by a model that did not see it: text, intent, fold, parse."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    examples = load_data(str(training_data)).intent_examples
    intents = [message.get("intent") for message in examples]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as scratch:
        directory = Path(scratch)
        config = fold_config(config_path, directory)
        for fold, (train_index, test_index) in enumerate(splitter.split(examples, intents)):
            train_yaml = directory / f"train-{fold}.yml"
            train_data = TrainingData(training_examples=[examples[i] for i in train_index])
            train_yaml.write_text(RasaYAMLWriter().dumps(train_data), encoding="utf-8")
            texts = [examples[i].get("text") for i in test_index]
            parses = run_fold(config, train_yaml, directory / f"model-{fold}", texts)
            results += [
                {
                    "text": examples[i].get("text"),
                    "intent": intents[i],
                    "fold": fold,
                    "parse": {
                        key: parse.get(key)
                        for key in (
                            "intent",
                            "intent_sources",
                            "safety_guard",
                            "frustration_detected",
                        )
                    },
                }
                for i, parse in zip(test_index, parses, strict=True)
            ]
            print(f"fold {fold + 1}/{folds} done ({time.monotonic() - started:.0f} s)")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument("--training-data", type=Path, default=PROJECT_ROOT / "data/nlu")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--weights", type=float, nargs="+", default=[0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0]
    )
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.2, 0.3])
    parser.add_argument(
        "--from-parses", type=Path, help="score a previous run's parses instead of training"
    )
    parser.add_argument("--json-out", type=Path, default=PROJECT_ROOT / "results/nlu_cv.json")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.chdir(PROJECT_ROOT)
    if args.from_parses:
        previous = json.loads(args.from_parses.read_text(encoding="utf-8"))
        messages, folds = previous["messages"], previous["folds"]
    else:
        messages = cross_validated_parses(args.config, args.training_data, args.folds)
        folds = args.folds
    truth = [message["intent"] for message in messages]
    ambiguity = ambiguity_setting(args.config)

    by_setting: dict[str, Any] = {}
    for weight in args.weights:
        for threshold in args.thresholds:
            predicted = [
                final_intent(message["parse"], weight, (threshold, ambiguity))
                for message in messages
            ]
            per_fold = [
                scores(
                    [m["intent"] for m in messages if m["fold"] == fold],
                    [p for p, m in zip(predicted, messages, strict=True) if m["fold"] == fold],
                )["accuracy"]
                for fold in range(folds)
            ]
            by_setting[f"weight {weight}, threshold {threshold}"] = {
                "lexical_weight": weight,
                "fallback_threshold": threshold,
                **scores(truth, predicted),
                "fold_accuracy_mean": round(statistics.fmean(per_fold), 4),
                "fold_accuracy_stdev": round(statistics.stdev(per_fold), 4),
            }
    pipeline_answers = scores(truth, [m["parse"]["intent"]["name"] for m in messages])
    report = {
        "generated": time.strftime("%Y-%m-%d"),
        "config": str(args.config),
        "training_messages": len(messages),
        "folds": folds,
        "pipeline_as_configured": pipeline_answers,
        "by_setting": by_setting,
        "messages": messages,
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(
        "\n| lexical weight | fallback threshold | accuracy | macro-F1 | fallbacks "
        "| confidently wrong | fold accuracy mean ± sd |"
    )
    print("|---|---|---|---|---|---|---|")
    for figures in by_setting.values():
        print(
            f"| {figures['lexical_weight']} | {figures['fallback_threshold']} | "
            f"{figures['accuracy']:.3f} | {figures['macro_f1']:.3f} | {figures['fallbacks']} | "
            f"{figures['confidently_wrong']} | {figures['fold_accuracy_mean']:.3f} ± "
            f"{figures['fold_accuracy_stdev']:.3f} |"
        )
    print(f"\npipeline as configured: {pipeline_answers}\nwritten: {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The held-out NLU floors (tests/nlu/floors.yml) and the scores they are compared with.

`tests/e2e/test_nlu_heldout.py` scores the running server's parses with `intent_scores` and fails
when a figure falls under its floor. To update the table after a deliberate change (new intents,
new data), run `make eval`, then print a proposal from its results and paste it into floors.yml:

    .venv/bin/python -m tests.nlu.floors results/nlu_eval.json
    .venv/bin/python -m tests.nlu.floors results/nlu_eval.json results/nlu_floor_runs.json \
        --train-seeds 2611 1234        # also retrain twice (~20 min) and take the lowest run

Several files (or a file of several runs) give floors one held-out message under the lowest run.
The overall floors are not proposed: they are set by hand (see docs/nlu-method.md, "Floors").
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

FLOORS_FILE = Path(__file__).resolve().parent / "floors.yml"
HELDOUT_FILE = Path(__file__).resolve().parent / "heldout_nlu.yml"


@dataclass(frozen=True)
class IntentScore:
    support: int  # held-out messages of this intent
    recall: float
    f1: float


@dataclass(frozen=True)
class Scores:
    accuracy: float
    macro_f1: float
    intents: dict[str, IntentScore]


def intent_scores(pairs: Iterable[tuple[str, str]]) -> Scores:
    """Accuracy, macro-F1 and per-intent recall/F1 over (expected, predicted) intent pairs.

    Macro-F1 averages over the intents of the held-out set, as scripts/evaluate_nlu.py does
    (sklearn's `labels=sorted(set(truth))`); a prediction such as nlu_fallback only counts as
    wrong.
    """
    pairs = list(pairs)
    support = Counter(expected for expected, _ in pairs)
    predicted_count = Counter(predicted for _, predicted in pairs)
    hits = Counter(expected for expected, predicted in pairs if expected == predicted)
    intents = {}
    for intent, count in support.items():
        recall = hits[intent] / count
        precision = hits[intent] / predicted_count[intent] if predicted_count[intent] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        intents[intent] = IntentScore(count, recall, f1)
    return Scores(
        accuracy=sum(hits.values()) / len(pairs),
        macro_f1=sum(score.f1 for score in intents.values()) / len(intents),
        intents=intents,
    )


def load_floors(path: Path = FLOORS_FILE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def intent_floor(floors: dict, intent: str) -> dict[str, float]:
    """The intent's own floors, or the default ones for an intent not in the table yet."""
    return {**floors["default_intent"], **(floors["intents"].get(intent) or {})}


def _round_down(value: float) -> float:
    return math.floor(value * 100 + 1e-9) / 100  # 0.95 - 0.05 is 0.8999…; keep it 0.90


def propose(*runs: Scores) -> dict[str, dict[str, float]]:
    """Per-intent floors one held-out message under the lowest figure of the runs given (one
    model, or several retrained ones: training is not bit-for-bit repeatable)."""
    proposal = {}
    for intent in sorted(set().union(*(run.intents for run in runs))):
        scores = [run.intents[intent] for run in runs if intent in run.intents]
        one_message = 1 / min(score.support for score in scores)
        proposal[intent] = {
            "recall": _round_down(max(0.0, min(s.recall for s in scores) - one_message)),
            # One more miss costs F1 about half of what it costs recall; one more false alarm
            # about the same again, so the F1 floor allows either.
            "f1": _round_down(max(0.0, min(s.f1 for s in scores) - one_message)),
        }
    return proposal


def pairs_from_eval_results(path: Path, heldout: Path = HELDOUT_FILE) -> list[tuple[str, str]]:
    """(expected, predicted) for every held-out message, from `make eval`'s results JSON."""
    from rasa.shared.nlu.training_data.loading import load_data

    errors = {
        error["text"]: error["predicted"]
        for error in json.loads(path.read_text(encoding="utf-8"))["model"]["intent_errors"]
    }
    return [
        (message.get("intent"), errors.get(message.get("text"), message.get("intent")))
        for message in load_data(str(heldout)).intent_examples
    ]


def pairs_from_file(path: Path) -> list[list[tuple[str, str]]]:
    """`make eval`'s results JSON (one run), or {run name: [[expected, predicted], …]} (several)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if "model" in data:
        return [pairs_from_eval_results(path)]
    return [[(expected, predicted) for expected, predicted in run] for run in data.values()]


def train_seed_runs(seeds: list[int], out: Path) -> None:
    """Retrains the NLU once per seed (as scripts/nlu_seed_spread.py does) and writes each run's
    held-out (expected, predicted) pairs to `out`, for `propose`. About 10 minutes a seed."""
    import asyncio
    import sys
    import tempfile

    project_root = FLOORS_FILE.parents[2]
    sys.path.insert(0, str(project_root / "scripts"))
    from evaluate_nlu import load_examples, parse_all, write_nlu_config
    from nlu_seed_spread import SEEDED_COMPONENTS
    from rasa.model_training import train_nlu

    heldout = load_examples(HELDOUT_FILE)
    runs: dict[str, list[tuple[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="nlu-floors-") as scratch:
        for seed in seeds:
            config = write_nlu_config(
                project_root / "config.yml",
                Path(scratch) / f"config-{seed}.yml",
                {name: {"random_seed": seed} for name in SEEDED_COMPONENTS},
            )
            model = train_nlu(
                config=str(config),
                nlu_data=str(project_root / "data" / "nlu"),
                output=scratch,
                fixed_model_name=f"seed-{seed}",
            )
            parses, _ = asyncio.run(parse_all(Path(model), [e.text for e in heldout]))
            runs[f"seed {seed}"] = [
                (e.intent, p["intent"]["name"]) for e, p in zip(heldout, parses, strict=True)
            ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(runs, ensure_ascii=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="Propose per-intent held-out NLU floors.")
    parser.add_argument(
        "results", type=Path, nargs="+", help="results/nlu_eval.json from `make eval`, or pairs"
    )
    parser.add_argument(
        "--train-seeds",
        type=int,
        nargs="+",
        help="first retrain with these seeds into the last file",
    )
    args = parser.parse_args()
    if args.train_seeds:
        train_seed_runs(args.train_seeds, args.results[-1])
    runs = [intent_scores(pairs) for path in args.results for pairs in pairs_from_file(path)]
    for number, scores in enumerate(runs, start=1):
        print(f"# run {number}: accuracy {scores.accuracy:.3f}, macro-F1 {scores.macro_f1:.3f}")
    print("# per intent, each run: recall/F1")
    for intent in sorted(runs[0].intents):
        figures = "  ".join(
            f"{run.intents[intent].recall:.2f}/{run.intents[intent].f1:.2f}"
            for run in runs
            if intent in run.intents
        )
        print(f"#   {intent:28} {runs[0].intents[intent].support:3d}  {figures}")
    print("intents:")
    for intent, floor in propose(*runs).items():
        print(f"  {intent}: {{recall: {floor['recall']:.2f}, f1: {floor['f1']:.2f}}}")


if __name__ == "__main__":
    main()

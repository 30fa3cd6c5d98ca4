"""How much the held-out intent figures move with the random seed alone.

Trains the NLU part of config.yml once per seed (DIET and LexicalIntentBlender seeds replaced),
parses the held-out set with each model and reports accuracy and macro-F1 per seed with their
mean, standard deviation and range. A single `make eval` run is one draw from this spread.
Writes results/nlu_seed_spread.json.

    .venv/bin/python scripts/nlu_seed_spread.py --seeds 2611 7 1234
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

from evaluate_nlu import intent_figures, load_examples, parse_all, write_nlu_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDED_COMPONENTS = (
    "DIETClassifier",
    "pos_assistant.nlu.lexical_intent_blender.LexicalIntentBlender",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2611, 7, 1234])
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument("--training-data", type=Path, default=PROJECT_ROOT / "data/nlu")
    parser.add_argument("--heldout", type=Path, default=PROJECT_ROOT / "tests/nlu/heldout_nlu.yml")
    parser.add_argument(
        "--json-out", type=Path, default=PROJECT_ROOT / "results/nlu_seed_spread.json"
    )
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.chdir(PROJECT_ROOT)
    from rasa.model_training import train_nlu

    heldout = load_examples(args.heldout)
    per_seed: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="nlu-seeds-") as scratch:
        directory = Path(scratch)
        for seed in args.seeds:
            model = train_nlu(
                config=str(
                    write_nlu_config(
                        args.config,
                        directory / f"config-{seed}.yml",
                        {name: {"random_seed": seed} for name in SEEDED_COMPONENTS},
                    )
                ),
                nlu_data=str(args.training_data),
                output=str(directory),
                fixed_model_name=f"seed-{seed}",
            )
            if not model:
                raise SystemExit(f"training with seed {seed} failed")
            texts = [example.text for example in heldout]
            parses, _ = asyncio.run(parse_all(Path(model), texts))
            figures = intent_figures(heldout, [parse["intent"]["name"] for parse in parses])
            per_seed[str(seed)] = {key: figures[key] for key in ("accuracy", "macro_f1")}
            print(f"seed {seed}: {per_seed[str(seed)]}")

    def spread(key: str) -> dict[str, float]:
        values = [figures[key] for figures in per_seed.values()]
        return {
            "mean": round(statistics.fmean(values), 4),
            "stdev": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
        }

    report = {
        "generated": time.strftime("%Y-%m-%d"),
        "heldout_messages": len(heldout),
        "per_seed": per_seed,
        "accuracy": spread("accuracy"),
        "macro_f1": spread("macro_f1"),
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    for key in ("accuracy", "macro_f1"):
        figures = report[key]
        print(
            f"{key}: mean {figures['mean']:.3f} ± {figures['stdev']:.3f} "
            f"(min {figures['min']:.3f}, max {figures['max']:.3f})"
        )
    print(f"written: {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# `make test`: set up, lint, validate the data, train, run pytest (unit, end-to-end, browser) and
# the test conversations. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/setup_system.sh
export PYTHONHASHSEED=0 TF_CPP_MIN_LOG_LEVEL=2

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== rasa data validate"
.venv/bin/rasa data validate --fail-on-warnings --quiet

echo "== train"
bash scripts/train.sh

echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider

echo "== rasa test (test conversations)"
rm -rf results/core
.venv/bin/rasa test core --model models/pos-assistant.tar.gz --stories tests/stories \
  --fail-on-prediction-errors --out results/core --quiet
echo "make test: all passed"

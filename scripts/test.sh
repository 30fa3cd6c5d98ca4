#!/usr/bin/env bash
# `make test`: set up, lint, validate the data, train, run pytest (unit, end-to-end, browser) and
# the test conversations. Exits non-zero on the first failure.
#
# With arguments, only pytest runs, with those arguments (after setup and, when needed, training):
#   bash scripts/test.sh tests/unit -k knowledge
#   bash scripts/test.sh --unit            (`make unit`: the fast tests, no model needed)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/setup_system.sh
export PYTHONHASHSEED=0 TF_CPP_MIN_LOG_LEVEL=2
# Rasa reports usage and crashes to its servers unless told not to; tests talk to loopback only.
export RASA_TELEMETRY_ENABLED=false
# Tests that need something beside the project (the source documents in ../shared) fail instead
# of skipping when it is missing (tests/shared_documents.py).
export POS_TESTS_STRICT=1

if [ "${1:-}" = "--unit" ]; then
  shift
  exec .venv/bin/python -m pytest -q -p no:cacheprovider tests/unit "$@"
fi
if [ $# -gt 0 ]; then
  bash scripts/train.sh
  exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
fi

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

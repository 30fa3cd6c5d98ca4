# The two commands a new user needs: `make run` and `make test`. The rest are steps of those.
.PHONY: run test unit setup train eval eval-dialogue lint clean bench loadtest

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

# The fast tests only (no model, no servers): `bash scripts/test.sh ARGS` runs any pytest selection.
unit:
	@bash scripts/test.sh --unit

setup:
	@bash scripts/setup.sh

train: setup
	@bash scripts/train.sh

eval: train
	@.venv/bin/python scripts/evaluate_nlu.py

# Whole conversations (tests/dialogue) through the real servers: a table by kind, results/dialogue_eval.json.
eval-dialogue: train
	@PYTHONPATH=$(CURDIR) .venv/bin/python scripts/eval_dialogue.py

lint: setup
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

clean:
	rm -rf .venv models/*.tar.gz models/.train-stamp var results

# Not part of `make test`: starts its own servers and loads them for minutes (docs/benchmarks.md).
# `make bench ARGS=--quick` for small counts and no fresh training.
bench: setup
	@.venv/bin/python -m pip install --quiet -c constraints.txt -r requirements-bench.txt 2>&1 \
	  | { grep -v 'is ignored: it is neither' || true; }
	@PYTHONPATH=$$PWD .venv/bin/python scripts/bench.py $(ARGS)

# Not part of `make test`: 2 Rasa processes on PostgreSQL + Redis behind one address, 200 users ×
# 10 turns; 0 errors, 0 lost, 0 duplicated, every turn answered (docs/deployment.md).
# `make loadtest ARGS="--users 20 --turns 4"` for a short run; ARGS="--duration 1800" soaks for
# 30 minutes and reports each server's memory growth.
loadtest: train
	@bash scripts/setup_system.sh
	@PYTHONPATH=$$PWD .venv/bin/python scripts/loadtest.py $(ARGS)

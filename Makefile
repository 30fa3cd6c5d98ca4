# The two commands a new user needs: `make run` and `make test`. The rest are steps of those.
.PHONY: run test setup train eval eval-dialogue lint clean

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

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

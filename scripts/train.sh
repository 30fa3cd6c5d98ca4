#!/usr/bin/env bash
# Trains models/pos-assistant.tar.gz only when the training inputs changed since the last training.
set -euo pipefail
cd "$(dirname "$0")/.."

model=models/pos-assistant.tar.gz
stamp_file=models/.train-stamp
# What the model is built from. Files read at run time (data/knowledge, data/channels, …) are not.
training_inputs=(config.yml domain.yml data/nlu data/rules data/stories data/dictionary
  data/brands.yml data/normalization.yml data/frustration.yml data/scam_phrases.yml
  data/safety_topics.yml data/number_labels.yml pos_assistant/nlu pos_assistant/privacy.py
  pos_assistant/disclosed_secrets.py pos_assistant/number_labels.py)
inputs_hash=$( (find "${training_inputs[@]}" -type f \( -name '*.yml' -o -name '*.txt' -o -name '*.py' \) \
  | LC_ALL=C sort | xargs sha256sum; cat .venv/.setup-stamp) | sha256sum | cut -d' ' -f1)
if [ -f "$model" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$inputs_hash" ]; then
  echo "train: model is up to date ($model)"
  exit 0
fi

echo "train: training $model (a few minutes on 2 cores)"
export PYTHONHASHSEED=0 TF_DETERMINISTIC_OPS=1 TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false
# One TensorFlow thread: on 2 shared cores a second one mostly waits for the other jobs (DIET
# trained in 1 min 44 s / 94 s CPU against 1 min 55 s / 110 s; docs/nlu-method.md). Training only.
export TF_INTRA_OP_PARALLELISM_THREADS=1 TF_INTER_OP_PARALLELISM_THREADS=1
# Rasa warns about every response sent only by custom actions; `rasa data validate` shows them.
export PYTHONWARNINGS=ignore
# No story augmentation: MemoizationPolicy and RulePolicy (our only policies) learn from the
# stories as written and skip augmented ones (rasa/core/policies/memoization.py), so the default
# 50x augmentation only cost time (core training 17.7 -> 10.8 s CPU; docs/benchmarks.md).
.venv/bin/rasa train --fixed-model-name pos-assistant --out models --quiet --augmentation 0
echo "$inputs_hash" > "$stamp_file"

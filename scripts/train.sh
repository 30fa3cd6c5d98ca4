#!/usr/bin/env bash
# Trains models/pos-assistant.tar.gz only when the training inputs changed since the last training.
set -euo pipefail
cd "$(dirname "$0")/.."

model=models/pos-assistant.tar.gz
stamp_file=models/.train-stamp
inputs_hash=$( (find data config.yml domain.yml pos_assistant/nlu -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.txt' -o -name '*.py' \) 2>/dev/null | LC_ALL=C sort | xargs sha256sum; cat .venv/.setup-stamp) | sha256sum | cut -d' ' -f1)
if [ -f "$model" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$inputs_hash" ]; then
  echo "train: model is up to date ($model)"
  exit 0
fi

echo "train: training $model (a few minutes on 2 cores)"
export PYTHONHASHSEED=0 TF_DETERMINISTIC_OPS=1 TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/rasa train --fixed-model-name pos-assistant --out models --quiet
echo "$inputs_hash" > "$stamp_file"

#!/usr/bin/env bash
# wait-healthy.sh URL SECONDS: succeeds once URL answers 200, fails after SECONDS (systemd's
# ExecStartPost: the unit counts as started only when it serves).
set -euo pipefail
url=$1 seconds=$2
for _ in $(seq "$seconds"); do
  curl -fsS -o /dev/null --max-time 2 "$url" && exit 0
  sleep 1
done
echo "not healthy after ${seconds}s: $url" >&2
exit 1

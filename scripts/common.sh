# Shared helpers for run.sh and the test harness scripts (sourced, not executed).

port_in_use() {
  # True when something listens on 127.0.0.1:$1.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for_url() {
  # wait_for_url URL SECONDS NAME: polls until URL answers 200 or SECONDS pass.
  local url=$1 seconds=$2 name=$3 waited=0
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if [ "$waited" -ge "$seconds" ]; then
      echo "error: $name did not answer at $url within ${seconds}s (see var/logs/)" >&2
      return 1
    fi
  done
}

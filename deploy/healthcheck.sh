#!/usr/bin/env bash
# Run by pos-health.timer every 10 s: a server whose health URL failed 3 checks in a row is
# restarted (logged to the journal). Counts live in /run/pos-assistant-health/.
set -uo pipefail
state=/run/pos-assistant-health
mkdir -p "$state"
check() {
  local unit=$1 url=$2 failures
  systemctl is-active --quiet "$unit" || return 0  # starting or stopped: systemd handles it
  if curl -fsS -o /dev/null --max-time 5 "$url"; then
    rm -f "$state/$unit"
    return 0
  fi
  failures=$(( $(cat "$state/$unit" 2>/dev/null || echo 0) + 1 ))
  echo "$failures" >"$state/$unit"
  if [ "$failures" -ge 3 ]; then
    echo "health: $unit did not answer $url 3 times; restarting it"
    rm -f "$state/$unit"
    systemctl restart "$unit"
  fi
}
check pos-actions.service http://127.0.0.1:5055/health
for unit in $(systemctl list-units --plain --no-legend 'pos-rasa@*.service' | awk '{print $1}'); do
  port=${unit#pos-rasa@}; port=${port%.service}
  check "$unit" "http://127.0.0.1:$port/"
done
check pos-web.service http://127.0.0.1:8000/health
check pos-console.service http://127.0.0.1:8100/health

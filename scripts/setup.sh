#!/usr/bin/env bash
# Creates .venv with the pinned dependencies and the web widget's client library.
# Idempotent: a stamp of the inputs' hash makes a second run return in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp_file=.venv/.setup-stamp
hash_inputs=(requirements.in constraints.txt pyproject.toml)
[ -f web/package-lock.json ] && hash_inputs+=(web/package.json web/package-lock.json)
inputs_hash=$(cat "${hash_inputs[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$inputs_hash" ] && [ -x .venv/bin/rasa ]; then
  exit 0
fi

python=$(bash scripts/find_python.sh)
echo "setup: using $python"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  rm -rf .venv
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip<25" 2>&1 \
  | { grep -v 'is ignored: it is neither' || true; }
echo "setup: installing pinned Python packages (first run takes a few minutes)"
quiet_pip() {
  # This machine's pip config names local wheel folders that may be absent: hide those warnings.
  .venv/bin/python -m pip install --quiet "$@" 2>&1 | { grep -v 'is ignored: it is neither' || true; }
  return "${PIPESTATUS[0]}"
}
quiet_pip -r requirements.in -c constraints.txt
quiet_pip --no-deps --no-build-isolation -e .

if [ -f web/package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is needed to install the web widget's client library (apt-get install npm)." >&2
    exit 1
  fi
  echo "setup: installing the web widget's client library from the npm registry"
  (cd web && npm ci --silent --no-audit --no-fund)
  mkdir -p web/static/vendor
  cp web/node_modules/socket.io-client/dist/socket.io.min.js web/static/vendor/
fi

mkdir -p var
echo "$inputs_hash" > "$stamp_file"
echo "setup: done"

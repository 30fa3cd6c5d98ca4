#!/usr/bin/env bash
# Prints the path of a working Python 3.10 interpreter (rasa 3.6.21 supports none newer), or fails.
set -u
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.10)
for dir in "$HOME"/.pyenv/versions/3.10* /root/.pyenv/versions/3.10* /usr/local/bin /usr/bin; do
  [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
  [ -x "$dir/python3.10" ] && candidates+=("$dir/python3.10")
done
for candidate in "${candidates[@]}"; do
  version=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if [ "$version" = "3.10" ]; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
echo "error: Python 3.10 not found. Rasa 3.6.21 needs Python 3.10 (it supports nothing newer)." >&2
echo "Install it (e.g. 'pyenv install 3.10.13') or set PYTHON=/path/to/python3.10." >&2
exit 1

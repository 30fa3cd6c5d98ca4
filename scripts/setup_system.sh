#!/usr/bin/env bash
# Debian packages the tests need: Chromium + ChromeDriver (widget browser test), PostgreSQL and
# Redis (case store on PostgreSQL, several Rasa servers sharing PostgreSQL + Redis), curl.
# Installs only what is missing; needs root (CI and the dev machines run as root).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# Not grep -q: it stops reading at the first match and fc-list's SIGPIPE fails the pipeline.
fc-list 2>/dev/null | grep -i 'cjk\|wqy' >/dev/null || missing+=(fonts-noto-cjk)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "error: the tests need these Debian packages: ${missing[*]} (run as root or install them)." >&2
  exit 1
fi
echo "setup: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The distribution's own cluster is not used: tests start their own throwaway PostgreSQL.
systemctl disable --now postgresql >/dev/null 2>&1 || true

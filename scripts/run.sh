#!/usr/bin/env bash
# `make run`: set up, train when needed, start the action server, the Rasa server and the web page
# on embedded defaults (SQLite), and stop them all on Ctrl-C or SIGTERM. Never reads the keyboard.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

bash scripts/setup.sh
bash scripts/train.sh

ACTION_PORT=${ACTION_PORT:-5055}
# The action server is internal: loopback here, a private address in production (ACTION_HOST).
ACTION_HOST=${ACTION_HOST:-127.0.0.1}
export ACTION_HOST
RASA_PORT=${RASA_PORT:-5005}
WEB_PORT=${WEB_PORT:-8000}
CONSOLE_PORT=${CONSOLE_PORT:-8001}
for port in "$ACTION_PORT" "$RASA_PORT" "$WEB_PORT" "$CONSOLE_PORT"; do
  if port_in_use "$port"; then
    echo "error: port $port is already in use. Stop what runs there, or set ACTION_PORT / RASA_PORT / WEB_PORT / CONSOLE_PORT." >&2
    exit 1
  fi
done

mkdir -p var/logs
# The development WeChat token is documented in the README; production needs its own (see .env.example).
export WECHAT_TOKEN=${WECHAT_TOKEN:-pos-assistant-dev-token}
# The widget relay (web/server.py) runs here: believe the browser address it forwards.
export TRUSTED_PROXY=${TRUSTED_PROXY-127.0.0.1,::1}
export PYTHONHASHSEED=0 TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false
# Rasa calls the action server where it listens: ACTION_HOST / ACTION_PORT move both ends.
sed "s#http://127.0.0.1:5055/webhook#http://$ACTION_HOST:$ACTION_PORT/webhook#" endpoints.yml \
  >var/endpoints.yml
RASA_API_TOKEN=${RASA_API_TOKEN:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export RASA_API_TOKEN RASA_URL="http://localhost:$RASA_PORT"

# pos_assistant/supervisor.py runs the servers: one that dies is restarted (with backoff, logged
# here), the others keep serving. Only Ctrl-C / SIGTERM stops them all.
services=(
  --service "actions=.venv/bin/python -m pos_assistant.action_server --host $ACTION_HOST --port $ACTION_PORT --actions actions"
  --service "rasa=.venv/bin/rasa run --model models/pos-assistant.tar.gz --port $RASA_PORT --credentials credentials.yml --endpoints var/endpoints.yml --enable-api --auth-token $RASA_API_TOKEN"
)
if [ -f web/server.py ]; then
  services+=(--service "web=.venv/bin/python -m web.server --port $WEB_PORT --rasa-url http://localhost:$RASA_PORT")
fi
services+=(--service "console=.venv/bin/python -m pos_assistant.console --port $CONSOLE_PORT")
supervisor=
stop_all() {
  local status=${1:-0}
  trap - INT TERM EXIT
  echo
  echo "run: stopping"
  if [ -n "$supervisor" ]; then
    kill -TERM "$supervisor" 2>/dev/null || true
    wait "$supervisor" 2>/dev/null || true
  fi
  exit "$status"
}
trap 'stop_all 0' INT TERM
trap 'stop_all $?' EXIT

PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} .venv/bin/python -m pos_assistant.supervisor \
  --log-dir var/logs "${services[@]}" </dev/null &
supervisor=$!

echo "run: starting (loading the model takes about a minute)"
wait_for_url "http://$ACTION_HOST:$ACTION_PORT/health" 120 "action server"
wait_for_url "http://localhost:$RASA_PORT/" 240 "Rasa server"
wait_for_url "http://localhost:$CONSOLE_PORT/health" 60 "agent console"

cat <<MSG

The assistant is running.
  Chat over REST:
    curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"u1","message":"你好"}'
MSG
if [ -f web/server.py ]; then
  echo "  Chat in the browser:    http://localhost:$WEB_PORT/"
fi
cat <<MSG
  Agent console:          http://localhost:$CONSOLE_PORT/ (first account: .venv/bin/python -m pos_assistant.staff agents add NAME --role lead)
  WeChat webhook:         http://localhost:$RASA_PORT/webhooks/wechat/webhook (token: \$WECHAT_TOKEN)
  Staff tool (handoffs):  export RASA_API_TOKEN=$RASA_API_TOKEN
                          .venv/bin/python -m pos_assistant.staff handoff list
  Logs:                   var/logs/
Press Ctrl-C to stop.
MSG

# The supervisor returns only when told to stop (or if it failed itself). Ctrl-C reaches it too:
# when it has already stopped cleanly (0) by the time this shell looks, that is a normal stop.
if wait "$supervisor"; then
  stop_all 0
fi
echo "run: the supervisor stopped unexpectedly; see var/logs/" >&2
stop_all 1

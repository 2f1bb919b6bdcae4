#!/usr/bin/env bash
# Start the signing relay (relay.py) in front of the local server on TS_PORT, so the
# package can be tested against Atoma's wire: every answer and every stream chunk signed
# with an Ed25519 key made at start, no [DONE], keep-alive comments, Atoma's error shape.
# Idempotent: a relay already running on TS_RELAY_PORT (pid file) is left alone.
#
# Environment: TS_PORT (the llama.cpp server, default 8765; start it first with
#   start_server.sh)  TS_RELAY_PORT (default TS_PORT + 10)  TS_RELAY_KEEP_ALIVE_MS=15
#   ATOMA_VENV (the project's venv, default .venv: the relay imports the package)
#
# On success prints to stdout, suitable for `export $(...)`:
#   TS_RELAY_URL=http://127.0.0.1:8775/v1
#   TS_SIGNER_ADDRESS=0x...   (the relay's Sui address, for trusted_signers)
#   TS_RELAY_PID=12345
#   TS_RELAY_STARTED=1        (0 when it was already running)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROOT="$(cd "$TS_HERE/../.." && pwd)"
VENV_PYTHON="$ROOT/${ATOMA_VENV:-.venv}/bin/python"
TS_RELAY_PORT="${TS_RELAY_PORT:-$((TS_PORT + 10))}"
TS_RELAY_KEEP_ALIVE_MS="${TS_RELAY_KEEP_ALIVE_MS:-15}"
pid_file="$TS_WORK/relay-$TS_RELAY_PORT.pid"
env_file="$TS_WORK/relay-$TS_RELAY_PORT.env"
log_file="$TS_WORK/relay-$TS_RELAY_PORT.log"

[ -x "$VENV_PYTHON" ] || { ts_log "no $VENV_PYTHON: run scripts/bootstrap.sh first"; exit 1; }

if [ -s "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null && [ -s "$env_file" ]; then
    ts_log "relay already running (pid $(cat "$pid_file")) on port $TS_RELAY_PORT"
    cat "$env_file"
    echo "TS_RELAY_PID=$(cat "$pid_file")"
    echo "TS_RELAY_STARTED=0"
    exit 0
fi
rm -f "$pid_file" "$env_file"
mkdir -p "$TS_WORK"

# The relay prints its two result lines on stdout once it listens; its log goes to stderr.
nohup "$VENV_PYTHON" "$TS_HERE/relay.py" --upstream "http://$TS_HOST:$TS_PORT" \
    --port "$TS_RELAY_PORT" --keep-alive-ms "$TS_RELAY_KEEP_ALIVE_MS" \
    >"$env_file.tmp" 2>"$log_file" </dev/null &
echo $! >"$pid_file"

deadline=$(( $(date +%s) + 30 ))
until [ "$(grep -c '^TS_' "$env_file.tmp" 2>/dev/null)" = 2 ]; do
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        ts_log "the relay exited during startup; its log:"
        cat "$log_file" >&2 || true
        rm -f "$pid_file" "$env_file.tmp"
        exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        ts_log "the relay did not start within 30s; stopping it"
        kill "$(cat "$pid_file")" 2>/dev/null || true
        rm -f "$pid_file" "$env_file.tmp"
        exit 1
    fi
    sleep 0.1
done
mv "$env_file.tmp" "$env_file"
ts_log "relay pid $(cat "$pid_file") on port $TS_RELAY_PORT -> port $TS_PORT, log: $log_file"
cat "$env_file"
echo "TS_RELAY_PID=$(cat "$pid_file")"
echo "TS_RELAY_STARTED=1"

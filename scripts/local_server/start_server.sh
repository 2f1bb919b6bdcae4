#!/usr/bin/env bash
# Start llama-cpp-python's OpenAI-compatible server on 127.0.0.1 and wait until
# GET /v1/models answers. Idempotent: if our server (pid file) is already up
# and healthy with the same model id, it is left alone.
#
# Runs setup.sh and build_model.sh first (both are no-ops when done already).
#
# Environment (all optional): TS_MODEL=tiny|smollm2|file.gguf  TS_PORT=8765
#   TS_MODEL_ALIAS (model id to serve)  TS_N_CTX=2048  TS_N_THREADS=1
#   TS_N_THREADS_BATCH=2
#   TS_STARTUP_TIMEOUT=120  TS_WORK (state dir, default ~/.cache/atoma-integrations/local-server)
#
# On success prints four lines to stdout, suitable for `export $(...)`:
#   TS_BASE_URL=http://127.0.0.1:8765/v1
#   TS_MODEL_ID=tiny-llama
#   TS_SERVER_PID=12345
#   TS_STARTED=1          (0 when the server was already running)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ts_resolve_model

url="http://$TS_HOST:$TS_PORT"

# Prints the model id the server at $url reports, or nothing.
served_model() {
    "$TS_VENV/bin/python" - "$url" <<'EOF' 2>/dev/null || true
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/v1/models", timeout=2) as r:
        print(json.load(r)["data"][0]["id"])
except Exception:
    pass
EOF
}

pid_alive() { [ -s "$TS_PID_FILE" ] && kill -0 "$(cat "$TS_PID_FILE")" 2>/dev/null; }

# $1: 1 when this call started the server, 0 when it was already running; callers
# stop only a server they started, never one somebody else is using.
report() {
    echo "TS_BASE_URL=$url/v1"
    echo "TS_MODEL_ID=$TS_MODEL_ALIAS"
    echo "TS_SERVER_PID=$(cat "$TS_PID_FILE")"
    echo "TS_STARTED=$1"
}

# Their output goes to stderr: stdout carries only the three result lines.
"$TS_HERE/setup.sh" >&2
case "$TS_MODEL" in tiny|smollm2) "$TS_HERE/build_model.sh" "$TS_MODEL" >&2 ;; esac
[ -f "$TS_MODEL_PATH" ] || { ts_log "model file not found: $TS_MODEL_PATH"; exit 1; }

if pid_alive; then
    current="$(served_model)"
    if [ "$current" = "$TS_MODEL_ALIAS" ]; then
        ts_log "already running (pid $(cat "$TS_PID_FILE")) with model $current"
        report 0
        exit 0
    fi
    ts_log "a server from this folder is running (pid $(cat "$TS_PID_FILE")) serving '${current:-?}';" \
           "run stop_server.sh first"
    exit 1
fi
rm -f "$TS_PID_FILE"

if [ -n "$(served_model)" ]; then
    ts_log "something else already answers on $url; pick another TS_PORT"
    exit 1
fi

mkdir -p "$TS_WORK"
start=$(date +%s.%N)
# --interrupt_requests False: a new request waits for the running one instead
# of cutting its stream short (the default would break concurrent tests).
nohup "$TS_VENV/bin/python" -m llama_cpp.server \
    --model "$TS_MODEL_PATH" \
    --model_alias "$TS_MODEL_ALIAS" \
    --host "$TS_HOST" --port "$TS_PORT" \
    --n_ctx "$TS_N_CTX" \
    --n_threads "$TS_N_THREADS" --n_threads_batch "$TS_N_THREADS_BATCH" \
    --interrupt_requests False \
    --use_mlock False \
    >"$TS_LOG_FILE" 2>&1 </dev/null &
echo $! >"$TS_PID_FILE"
ts_log "started pid $(cat "$TS_PID_FILE"), log: $TS_LOG_FILE"

deadline=$(( $(date +%s) + TS_STARTUP_TIMEOUT ))
while :; do
    if ! pid_alive; then
        ts_log "server exited during startup; last log lines:"
        tail -n 30 "$TS_LOG_FILE" >&2 || true
        rm -f "$TS_PID_FILE"
        exit 1
    fi
    if [ "$(served_model)" = "$TS_MODEL_ALIAS" ]; then
        break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        ts_log "not healthy after ${TS_STARTUP_TIMEOUT}s; stopping it"
        kill "$(cat "$TS_PID_FILE")" 2>/dev/null || true
        rm -f "$TS_PID_FILE"
        exit 1
    fi
    sleep 0.2
done
ts_log "healthy after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s: $url/v1 serving $TS_MODEL_ALIAS"
report 1

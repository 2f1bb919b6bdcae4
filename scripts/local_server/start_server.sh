#!/usr/bin/env bash
# Start llama-cpp-python's OpenAI-compatible server on 127.0.0.1 and wait until
# GET /v1/models lists the model ids below. Idempotent: if our server (pid file) is
# already up and serves the same set of ids, it is left alone.
#
# One process, one port, two ids over the same model file (a --config_file written by
# server_config.py; llama-cpp-python swaps the loaded model when a request names the
# other id):
#   TS_MODEL_ID        /v1/completions (unchanged) and /v1/chat/completions (chat format
#                      chatml-function-calling: tools, tool_choice, response_format)
#   TS_EMBED_MODEL_ID  /v1/embeddings, one mean-pooled vector per input
# What the server does with each request, measured: scripts/local_server/README.md.
#
# Runs setup.sh and build_model.sh first (both are no-ops when done already).
#
# Environment (all optional): TS_MODEL=tiny|smollm2|file.gguf  TS_PORT=8765
#   TS_MODEL_ALIAS (completion/chat id)  TS_EMBED_ALIAS (embedding id)
#   TS_CHAT_FORMAT=chatml-function-calling  TS_N_CTX=2048  TS_N_THREADS=1
#   TS_N_THREADS_BATCH=2
#   TS_STARTUP_TIMEOUT=120  TS_WORK (state dir, default ~/.cache/atoma-integrations/local-server)
#
# On success prints six lines to stdout, suitable for `export $(...)`:
#   TS_BASE_URL=http://127.0.0.1:8765/v1
#   TS_MODEL_ID=tiny-llama              (completions)
#   TS_CHAT_MODEL_ID=tiny-llama         (chat; the same id)
#   TS_EMBED_MODEL_ID=tiny-llama-embed  (embeddings)
#   TS_SERVER_PID=12345
#   TS_STARTED=1          (0 when the server was already running)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ts_resolve_model

url="http://$TS_HOST:$TS_PORT"
[ "$TS_MODEL_ALIAS" != "$TS_EMBED_ALIAS" ] || { ts_log "TS_MODEL_ALIAS and TS_EMBED_ALIAS must differ"; exit 1; }
# The set of ids this setup serves, sorted, space-separated (as served_models prints it).
want_models="$(printf '%s\n' "$TS_MODEL_ALIAS" "$TS_EMBED_ALIAS" | sort | xargs)"

# Prints the sorted model ids the server at $url lists, or nothing.
# (GET /v1/models waits for the model lock, so it can be slow during a long stream.)
served_models() {
    "$TS_VENV/bin/python" - "$url" <<'EOF' 2>/dev/null || true
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/v1/models", timeout=5) as r:
        print(" ".join(sorted(m["id"] for m in json.load(r)["data"])))
except Exception:
    pass
EOF
}

# One embeddings request (the server loads the embedding model), then a 1-token
# completion (it swaps back, so the first real request finds the completion model
# loaded, as after a plain start). Fails if the embeddings are not one vector per input.
check_models() {
    "$TS_VENV/bin/python" - "$url" "$TS_MODEL_ALIAS" "$TS_EMBED_ALIAS" <<'EOF'
import json, sys, urllib.request
url, model, embed = sys.argv[1:]
def post(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode(),
                                 {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)
data = post("/v1/embeddings", {"model": embed, "input": ["ping", "ping pong"]})["data"]
dims = {len(d["embedding"]) for d in data}
if len(data) != 2 or len(dims) != 1 or not isinstance(data[0]["embedding"][0], float):
    sys.exit(f"embeddings are not one vector per input: {str(data)[:200]}")
post("/v1/completions", {"model": model, "prompt": "ping", "max_tokens": 1})
print(dims.pop())
EOF
}

pid_alive() { [ -s "$TS_PID_FILE" ] && kill -0 "$(cat "$TS_PID_FILE")" 2>/dev/null; }

# $1: 1 when this call started the server, 0 when it was already running; callers
# stop only a server they started, never one somebody else is using.
report() {
    echo "TS_BASE_URL=$url/v1"
    echo "TS_MODEL_ID=$TS_MODEL_ALIAS"
    echo "TS_CHAT_MODEL_ID=$TS_MODEL_ALIAS"
    echo "TS_EMBED_MODEL_ID=$TS_EMBED_ALIAS"
    echo "TS_SERVER_PID=$(cat "$TS_PID_FILE")"
    echo "TS_STARTED=$1"
}

# Their output goes to stderr: stdout carries only the result lines.
"$TS_HERE/setup.sh" >&2
case "$TS_MODEL" in tiny|smollm2) "$TS_HERE/build_model.sh" "$TS_MODEL" >&2 ;; esac
[ -f "$TS_MODEL_PATH" ] || { ts_log "model file not found: $TS_MODEL_PATH"; exit 1; }

if pid_alive; then
    current="$(served_models)"
    if [ "$current" = "$want_models" ]; then
        ts_log "already running (pid $(cat "$TS_PID_FILE")) with models $current"
        report 0
        exit 0
    fi
    ts_log "a server from this folder is running (pid $(cat "$TS_PID_FILE")) serving '${current:-?}';" \
           "run stop_server.sh first"
    exit 1
fi
rm -f "$TS_PID_FILE"

if [ -n "$(served_models)" ]; then
    ts_log "something else already answers on $url; pick another TS_PORT"
    exit 1
fi

mkdir -p "$TS_WORK"
start=$(date +%s.%N)
# The config sets host 127.0.0.1, this port, interrupt_requests false (a new request
# waits for the running one instead of cutting its stream short; the default would
# break concurrent tests) and the two model entries.
"$TS_VENV/bin/python" "$TS_HERE/server_config.py" --model "$TS_MODEL_PATH" \
    --alias "$TS_MODEL_ALIAS" --embed-alias "$TS_EMBED_ALIAS" --chat-format "$TS_CHAT_FORMAT" \
    --port "$TS_PORT" --n-ctx "$TS_N_CTX" \
    --n-threads "$TS_N_THREADS" --n-threads-batch "$TS_N_THREADS_BATCH" --out "$TS_CONFIG_FILE"
# HOST, PORT and CONFIG_FILE in the environment would override the config file.
nohup env -u HOST -u PORT -u CONFIG_FILE "$TS_VENV/bin/python" -m llama_cpp.server \
    --config_file "$TS_CONFIG_FILE" \
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
    if [ "$(served_models)" = "$want_models" ]; then
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
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
ts_log "healthy after $(elapsed "$start")s: $url/v1 serving $TS_MODEL_ALIAS (completions, chat)" \
       "and $TS_EMBED_ALIAS (embeddings)"
ts_log "checking embeddings (loads the embedding model once, then swaps back: about 0.5 s with tiny, 1-3 s with SmolLM2)"
check_start=$(date +%s.%N)
if ! dims="$(check_models)"; then
    ts_log "the embedding check failed; stopping the server. Last log lines:"
    tail -n 30 "$TS_LOG_FILE" >&2 || true
    kill "$(cat "$TS_PID_FILE")" 2>/dev/null || true
    rm -f "$TS_PID_FILE"
    exit 1
fi
ts_log "embeddings ok ($dims dimensions) in $(elapsed "$check_start")s"
report 1

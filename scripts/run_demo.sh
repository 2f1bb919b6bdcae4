#!/usr/bin/env bash
# The README's demo: against Atoma when ATOMA_API_KEY is set, otherwise against a local
# llama.cpp server with SmolLM2-135M (started here, stopped afterwards).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
VENV="${ATOMA_VENV:-.venv}"

if [ -n "${ATOMA_API_KEY:-}" ]; then
    exec "$VENV/bin/python" examples/demo.py
fi

echo "[demo] no ATOMA_API_KEY: using a local llama.cpp server with SmolLM2-135M" >&2
echo "[demo] (first run on a machine: compiling the server takes ~5 minutes, the model download ~10 s)" >&2
export TS_MODEL=smollm2 TS_PORT="${ATOMA_DEMO_PORT:-8766}"
server_env="$(bash scripts/local_server/start_server.sh)"
# shellcheck disable=SC2086
export $server_env
if [ "$TS_STARTED" = 1 ]; then
    trap 'bash scripts/local_server/stop_server.sh' EXIT
fi
# One server, one id per kind of model (completions, chat, embeddings).
ATOMA_BASE_URL="$TS_BASE_URL" ATOMA_MODEL="$TS_MODEL_ID" ATOMA_CHAT_MODEL="$TS_CHAT_MODEL_ID" \
    ATOMA_EMBED_MODEL="$TS_EMBED_MODEL_ID" "$VENV/bin/python" examples/demo.py

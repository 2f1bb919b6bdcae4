#!/usr/bin/env bash
# The README's demo: against Atoma when ATOMA_API_KEY is set, otherwise against a local
# llama.cpp server with SmolLM2-135M behind the signing relay (both started here, stopped
# afterwards), with every answer's signature checked.
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
stop=""
if [ "$TS_STARTED" = 1 ]; then
    stop='bash scripts/local_server/stop_server.sh'
fi
trap 'eval "$stop"' EXIT
# The signing relay in front of it speaks Atoma's wire (every answer signed by a key made
# at start), so the demo can verify signatures as it would on Atoma.
export TS_RELAY_PORT="${ATOMA_DEMO_RELAY_PORT:-$((TS_PORT + 10))}"
relay_env="$(bash scripts/local_server/start_relay.sh)"
# shellcheck disable=SC2086
export $relay_env
if [ "$TS_RELAY_STARTED" = 1 ]; then
    stop="bash scripts/local_server/stop_relay.sh; $stop"
fi
# One server, one id per kind of model (completions, chat, embeddings); the demo pins the
# relay's key (ATOMA_TRUSTED_SIGNER) and prints the verified signer.
ATOMA_BASE_URL="$TS_RELAY_URL" ATOMA_MODEL="$TS_MODEL_ID" ATOMA_CHAT_MODEL="$TS_CHAT_MODEL_ID" \
    ATOMA_EMBED_MODEL="$TS_EMBED_MODEL_ID" ATOMA_TRUSTED_SIGNER="$TS_SIGNER_ADDRESS" \
    "$VENV/bin/python" examples/demo.py

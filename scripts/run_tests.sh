#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it: create the environment, start the
# tiny-model llama.cpp server and the signing relay in front of it, run lint, types and
# pytest against them, stop both; then
# the unit suite again on the lowest dependency versions pyproject.toml declares.
# Extra arguments go to pytest (for example: scripts/run_tests.sh -k stream -x).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
VENV="${ATOMA_VENV:-.venv}"

echo "[tests] ruff and mypy --strict" >&2
"$VENV/bin/ruff" check atoma_integrations tests benchmarks scripts examples notebooks
"$VENV/bin/mypy" atoma_integrations

echo "[tests] starting the local llama.cpp server (tiny model)" >&2
export TS_MODEL=tiny TS_PORT="${TS_PORT:-8765}"
server_env="$(bash scripts/local_server/start_server.sh)"
# shellcheck disable=SC2086
export $server_env
# The signing relay next to it (Atoma's wire: signed answers), for the verification tests
# and the docs blocks that check signatures; they spawn their own when it is not there.
export TS_RELAY_PORT="${TS_RELAY_PORT:-$((TS_PORT + 10))}"
stop=""
if [ "$TS_STARTED" = 1 ]; then
    stop='bash scripts/local_server/stop_server.sh'
fi
trap 'eval "$stop"' EXIT
relay_env="$(bash scripts/local_server/start_relay.sh)"
# shellcheck disable=SC2086
export $relay_env
if [ "$TS_RELAY_STARTED" = 1 ]; then
    stop="bash scripts/local_server/stop_relay.sh; $stop"
fi

# pytest's own exit status is the script's: 5 (no tests collected) fails like any other.
"$VENV/bin/python" -m pytest "$@"

echo "[tests] unit tests on the lowest declared dependency versions" >&2
bash scripts/lowest_deps.sh

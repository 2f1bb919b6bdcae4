#!/usr/bin/env bash
# Stop the relay start_relay.sh started on TS_RELAY_PORT (by the pid in its pid file only).
# Idempotent: succeeds when nothing is running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TS_RELAY_PORT="${TS_RELAY_PORT:-$((TS_PORT + 10))}"
pid_file="$TS_WORK/relay-$TS_RELAY_PORT.pid"
env_file="$TS_WORK/relay-$TS_RELAY_PORT.env"

if [ ! -s "$pid_file" ]; then
    rm -f "$env_file"
    ts_log "relay not running on port $TS_RELAY_PORT (no pid file)"
    exit 0
fi
pid="$(cat "$pid_file")"
if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    ts_log "stopped relay pid $pid"
else
    ts_log "relay pid $pid was not running"
fi
rm -f "$pid_file" "$env_file"

#!/usr/bin/env bash
# Stop the relay start_relay.sh started on TS_RELAY_PORT (by the pid in its pid file only).
# Idempotent: succeeds when nothing is running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TS_RELAY_PORT="${TS_RELAY_PORT:-$((TS_PORT + 10))}"
ts_stop_pid "$TS_WORK/relay-$TS_RELAY_PORT.pid" relay "$TS_WORK/relay-$TS_RELAY_PORT.env"

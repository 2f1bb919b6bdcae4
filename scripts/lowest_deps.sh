#!/usr/bin/env bash
# Run the unit suite (and the transport's reliability tests) against the LOWEST versions pyproject.toml declares for the package's
# dependencies (httpx, pydantic, httpx-aiohttp, aiohttp, typing_extensions, langchain-core,
# llama-index-core: whatever [project] dependencies and the "all" extra list), so a lower
# bound that is not true fails CI. The bounds are read from pyproject.toml by uv
# (--resolution lowest-direct), not listed here; the "verify" extra (signature checks) too.
# The test tools are pinned to the versions
# of the main environment, so only the package's own dependencies are at their floor.
# The environment is cached in .venv-lowest, keyed by a hash of pyproject.toml.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MAIN_VENV="${ATOMA_VENV:-.venv}"
VENV="${ATOMA_LOWEST_VENV:-.venv-lowest}"
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
TOOLS=(pytest pytest-asyncio pytest-timeout respx hypothesis psutil)

if [ ! -f "$stamp" ]; then
    echo "[lowest] resolving the lowest declared versions into $VENV (about 1 minute the first time)" >&2
    pins=()
    for tool in "${TOOLS[@]}"; do
        version="$("$MAIN_VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$tool'))")"
        pins+=("$tool==$version")
    done
    rm -rf "$VENV"
    "$MAIN_VENV/bin/uv" venv -q --python "$MAIN_VENV/bin/python" "$VENV"
    VIRTUAL_ENV="$VENV" "$MAIN_VENV/bin/uv" pip install -q --resolution lowest-direct \
        -e ".[all,verify]" "${pins[@]}" >&2
    touch "$stamp"
fi

# What was resolved, next to what pyproject.toml declares: a floor that others' requirements
# lift (typing_extensions, by anyio through httpx) is said, not silently taken as tested.
"$VENV/bin/python" - <<'PY' >&2
import importlib.metadata as metadata
import tomllib

from packaging.requirements import Requirement

with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
extras = project["optional-dependencies"]
declared = [Requirement(r) for r in project["dependencies"] + extras["all"] + extras["verify"]]
for req in declared:
    floor = next((s.version for s in req.specifier if s.operator == ">="), None)
    got = metadata.version(req.name)
    note = "" if floor is None or got == floor or got.startswith(floor + ".") else "  (floor lifted by other requirements)"
    print(f"[lowest] {req.name}: declared >= {floor}, testing {got}{note}")
PY
# The benchmark smoke run needs the bench extra, packaging needs the build tools, and
# LangChain's standard tests need langchain-tests: those run in the main environment.
# The transport's own guarantees (early exit closes the connection, a finished stream
# returns it, typed errors, timeouts, no "Unclosed" warnings) depend on the httpx-aiohttp
# and aiohttp versions, so those reliability tests run here too, on aiohttp's pool.
"$VENV/bin/python" -m pytest tests/unit -q -p no:cacheprovider \
    --ignore=tests/unit/test_benchmarks_smoke.py \
    --ignore=tests/unit/test_before_after_benchmark.py \
    --ignore=tests/unit/test_packaging.py \
    --ignore=tests/unit/test_langchain_standard.py \
    --ignore=tests/unit/test_chat_langchain_standard.py \
    --ignore=tests/unit/test_langchain_embeddings_standard.py \
    tests/reliability/test_early_exit.py \
    tests/reliability/test_stream_faults.py \
    tests/reliability/test_pool_lifecycle.py \
    -k "not httpx-pool" "$@"

#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv with the package,
# both frameworks, Ray Data and the test tools. Idempotent: skips pip when pyproject.toml has
# not changed since the last successful install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV="${ATOMA_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"

if [ -f "$stamp" ]; then
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "[bootstrap] creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
echo "[bootstrap] installing atoma-integrations with LangChain, LlamaIndex, Ray and test tools (about 2 minutes the first time)" >&2
"$VENV/bin/pip" install --disable-pip-version-check -q -e ".[all,ray,dev,bench]" 2>&1 \
    | grep -v "^WARNING: Location" >&2 || true
"$VENV/bin/python" -c "import atoma_integrations, langchain_core, llama_index.core, pytest" \
    || { echo "[bootstrap] install failed" >&2; exit 1; }
rm -f "$VENV"/.installed-*
touch "$stamp"

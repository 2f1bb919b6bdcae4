"""No module of the package grows past a size a reviewer can hold in mind.

A module over the limit usually has more than one job; split it by job (as ``_streaming``
was split into ``_sse``, ``_stream_state`` and the stream objects) rather than raising the
limit.
"""

from __future__ import annotations

from pathlib import Path

import atoma_integrations

MAX_LINES = 450
PACKAGE = Path(atoma_integrations.__file__).parent


def _line_count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def test_the_package_has_modules_to_check() -> None:
    modules = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    assert {"_client.py", "langchain/chat_models.py", "llama_index/chat.py"} <= modules


def test_no_module_of_the_package_is_over_450_lines() -> None:
    over = {
        path.relative_to(PACKAGE).as_posix(): count
        for path in sorted(PACKAGE.rglob("*.py"))
        if (count := _line_count(path)) > MAX_LINES
    }
    assert over == {}, f"modules over {MAX_LINES} lines (split them by job): {over}"

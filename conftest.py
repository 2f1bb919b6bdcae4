"""Collect the Python blocks of README.md and docs/*.md as tests (see tests/docs/harness.py).

Sybil is in the ``dev`` extra. The lowest-versions run (scripts/lowest_deps.sh) installs
only the runtime and pytest and runs tests/unit alone, so without Sybil nothing changes
until a doc is collected, which then fails loudly rather than passing with no examples run.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

if importlib.util.find_spec("sybil") is not None:
    from tests.docs.harness import (
        docs_servers,
        pytest_collect_file,
        pytest_collection_modifyitems,
    )

    __all__ = ["docs_servers", "pytest_collect_file", "pytest_collection_modifyitems"]
else:

    class _NeedsSybil(pytest.File):
        """A doc collected without Sybil: fails when its examples are asked for."""

        def collect(self) -> list[pytest.Item]:
            raise pytest.UsageError(
                f"{self.path.name}: its examples run with Sybil: pip install -e '.[dev]'"
            )

    def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.File | None:
        if file_path.name == "README.md" or (
            file_path.parent.name == "docs" and file_path.suffix == ".md"
        ):
            return _NeedsSybil.from_parent(parent, path=file_path)
        return None

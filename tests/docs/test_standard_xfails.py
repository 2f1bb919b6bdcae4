"""Every xfail left in the LangChain standard suites is listed, with its reason, in the
"Standard tests" table of docs/langchain.md.

The xfails are read from the suites' test classes (the marks pytest applies), not from their
source text, so a mark added any way (``@pytest.mark.xfail``, the suites' ``xfail`` helper)
is found.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator

import pytest

from tests.docs.harness import ROOT

# Every module that runs a LangChain standard suite (langchain-tests', or the package's own
# for the completion LLM in tests/langchain_standard/).
SUITE_MODULES = (
    "tests.unit.test_chat_langchain_standard",
    "tests.integration.test_chat_langchain_standard",
    "tests.unit.test_langchain_standard",
    "tests.integration.test_langchain_standard",
    "tests.unit.test_langchain_embeddings_standard",
    "tests.integration.test_langchain_embeddings_standard",
)
_ROW = re.compile(r"^\|([^|]*)\|([^|]*)\|", re.MULTILINE)


def _xfails() -> Iterator[tuple[str, str]]:
    """(module, test name) of every test the suites' classes mark xfail."""
    for module_name in SUITE_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # a suite this package does not run
            raise
        for cls in vars(module).values():
            if not (isinstance(cls, type) and cls.__name__.startswith("Test")):
                continue
            for name in dir(cls):
                marks = getattr(getattr(cls, name), "pytestmark", [])
                if name.startswith("test_") and any(m.name == "xfail" for m in marks):
                    yield module_name, name


def _xfail_rows() -> dict[str, str]:
    """Each test the Standard tests table marks xfail, with the row's first column."""
    text = (ROOT / "docs" / "langchain.md").read_text(encoding="utf-8")
    section = text[text.index("## Standard tests") :]
    section = section[: section.index("\n#", 1)]
    rows: dict[str, str] = {}
    for tests, mark in _ROW.findall(section):
        if "xfail" in mark:
            for name in re.findall(r"`(test_\w+)`", tests):
                rows[name] = tests.strip()
    return rows


def test_the_suites_have_xfails_to_check() -> None:
    found = {name for _, name in _xfails()}
    assert {"test_serdes", "test_agent_loop", "test_image_inputs"} <= found


@pytest.mark.parametrize(("module", "test"), sorted(set(_xfails())))
def test_every_xfail_of_the_standard_suites_is_in_the_docs_table(module: str, test: str) -> None:
    rows = _xfail_rows()
    assert test in rows, f"{module}::{test} is xfail but not in docs/langchain.md's table"
    if module.startswith("tests.unit."):
        assert "unit" in rows[test], f"{test}: the table should say it is the unit suite's"


def test_the_table_marks_xfail_only_what_the_suites_do() -> None:
    assert set(_xfail_rows()) == {name for _, name in _xfails()}

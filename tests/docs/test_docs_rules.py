"""What the docs claim is checked: cited tests exist, figures come from RESULTS.md, and
every block that does not run on the local server says so where a reader sees it.

The blocks themselves run through ``tests/docs/harness.py``; these tests check the prose.
"""

from __future__ import annotations

import importlib.util
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.docs.harness import DOCS_SYBIL, ROOT, doc_paths

RESULTS = ROOT / "benchmarks" / "RESULTS.md"

# The sections of the docs that quote benchmark figures; every number in them must be one
# of RESULTS.md's, at the precision the doc quotes it.
FIGURE_SECTIONS = {
    "README.md": ("## Performance", "## Development"),
    "docs/scale_out.md": ("## What Ray costs", None),
}

_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![a-wyzA-Z_\d])")
_CITED_TEST = re.compile(r"\btest_\w+")
_CITED_FILE = re.compile(r"\btests/[\w/]+\.py\b")
_DIRECTIVE = re.compile(r"^<!-- (docs-test|skip): .*-->$", re.MULTILINE)


# Pages without runnable blocks whose test citations are held to the same rule.
CITING_PAGES = ("ARCHITECTURE.md",)


def _docs() -> list[tuple[str, str]]:
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in doc_paths()]


def _citing_pages() -> list[tuple[str, str]]:
    return [*_docs(), *((name, (ROOT / name).read_text(encoding="utf-8")) for name in CITING_PAGES)]


def _test_sources() -> str:
    """Every test module's text and file name, and the standard suites the docs cite."""
    texts = [p.read_text(encoding="utf-8") + p.name for p in (ROOT / "tests").rglob("*.py")]
    spec = importlib.util.find_spec("langchain_tests")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            texts += [p.read_text(encoding="utf-8") for p in Path(location).rglob("*.py")]
    return "\n".join(texts)


def test_every_test_a_doc_cites_exists() -> None:
    sources = _test_sources()
    missing = []
    for name, text in _citing_pages():
        for cited in sorted(set(_CITED_TEST.findall(text))):
            defined = re.search(rf"\b(def |class ){re.escape(cited)}\b", sources)
            if not (defined or f"{cited}.py" in sources):
                missing.append(f"{name}: {cited}")
        for path in sorted(set(_CITED_FILE.findall(text))):
            if not (ROOT / path).is_file():
                missing.append(f"{name}: {path}")
    assert missing == []


def _matches(figure: str, results: set[Decimal]) -> bool:
    """``figure`` is one of ``results`` rounded to the figure's own precision."""
    value = Decimal(figure.replace(",", ""))
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    places = Decimal(1).scaleb(exponent)
    return any(r.quantize(places, rounding=ROUND_HALF_UP) == value for r in results)


def test_every_figure_comes_from_the_benchmark_results() -> None:
    results = {Decimal(n.replace(",", "")) for n in _NUMBER.findall(RESULTS.read_text())}
    unknown = []
    for name, (start, end) in FIGURE_SECTIONS.items():
        text = (ROOT / name).read_text(encoding="utf-8")
        section = text[text.index(start) : text.index(end) if end else len(text)]
        for line in section.splitlines():
            unknown += [
                f"{name}: {n} in {line.strip()[:80]!r}"
                for n in _NUMBER.findall(line)
                if not _matches(n, results)
            ]
    assert unknown == []


@pytest.mark.parametrize("name", [n for n, _ in _docs()])
def test_every_directive_has_a_visible_note(name: str) -> None:
    """A block that runs elsewhere or not at all says why in text a reader sees.

    The directive is an HTML comment (invisible once rendered), so the paragraph just
    before it must be a visible note (a ``>`` quote).
    """
    text = (ROOT / name).read_text(encoding="utf-8")
    for directive in _DIRECTIVE.finditer(text):
        before = text[: directive.start()].rstrip("\n").splitlines()
        assert before and before[-1].startswith(">"), (
            f"{name}: {directive.group(0)} has no visible note (a '>' line) right above it"
        )


def test_the_harness_parses_the_readme_and_every_docs_page_and_nothing_else() -> None:
    """A new page under docs/ is picked up with no change to the harness."""
    assert DOCS_SYBIL.should_parse(ROOT / "README.md")
    assert DOCS_SYBIL.should_parse(ROOT / "docs" / "verification.md")  # a page yet to come
    for page in (ROOT / "docs").glob("*.md"):
        assert DOCS_SYBIL.should_parse(page)
    assert not DOCS_SYBIL.should_parse(ROOT / "benchmarks" / "README.md")
    assert not DOCS_SYBIL.should_parse(ROOT / "scripts" / "local_server" / "README.md")
    assert not DOCS_SYBIL.should_parse(ROOT / "docs" / "notes" / "draft.md")

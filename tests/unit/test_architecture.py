"""The layer rules of ARCHITECTURE.md, checked on the package's own import statements.

Each module belongs to one layer; it may import its own layer and those listed before it,
never one listed after it, and the three framework packages never import one another.
Imports are read with ``ast`` from the source (every ``import`` and ``from ... import`` of
the package, wherever it stands, except under ``if TYPE_CHECKING:``, which never runs), so
a lazy import inside a function counts like one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "atoma_integrations"

# The layers, lowest first: ARCHITECTURE.md's table, in the same order and with the same
# members. A module not listed here fails the test, so a new module gets a layer on purpose.
LAYERS: dict[str, tuple[str, ...]] = {
    "leaves": (
        "_version",
        "errors",
        "_registry",
        "_sse",
        "_rules",
        "_tools",
        "_arguments",
        "_concurrency",
        "_profiles",
        "_transport",
    ),
    "types": ("types",),
    "client": (
        "_config",
        "_retries",
        "_signatures",
        "_signature_keys",
        "_stream_state",
        "_chat_stream_state",
        "_streaming",
        "resources",
        "_client",
    ),
    "adapter core": ("_settings", "_params", "_call_params", "_adapters"),
    "frameworks": ("langchain", "llama_index", "ray"),
    "facade": ("__init__", "models"),
}
FRAMEWORKS = LAYERS["frameworks"]


def _unit(module: str) -> str:
    """The layer table's name for a dotted module under the package (its first part)."""
    return module.split(".", 1)[0]


def _layer_of() -> dict[str, int]:
    return {unit: rank for rank, units in enumerate(LAYERS.values()) for unit in units}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).with_suffix("")
        yield ".".join(relative.parts), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str) -> set[str]:
    """The package modules ``path`` imports at run time (dotted, without the package name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package_parts = module.split(".")[:-1]  # a package's own "__init__" is one of its parts

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("atoma_integrations."):
                    found.add(alias.name.removeprefix("atoma_integrations."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith("atoma_integrations"):
                target = node.module.removeprefix("atoma_integrations").lstrip(".")
            else:
                target = None
            if target is not None:
                if target:
                    found.add(target)
                else:  # from atoma_integrations import _registry: the names are modules
                    found.update(alias.name for alias in node.names if alias.name != "*")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_every_module_has_a_layer() -> None:
    layer_of = _layer_of()
    missing = sorted(module for module, _ in _modules() if _unit(module) not in layer_of)
    assert not missing, f"add these modules to ARCHITECTURE.md's layer table: {missing}"


@pytest.mark.parametrize(("module", "path"), list(_modules()), ids=lambda v: str(v))
def test_a_module_imports_only_its_layer_and_those_below(module: str, path: Path) -> None:
    layer_of = _layer_of()
    names = list(LAYERS)
    own = layer_of[_unit(module)]
    above = sorted(
        f"{target} ({names[layer_of[_unit(target)]]})"
        for target in _imports(path, module)
        if _unit(target) in layer_of and layer_of[_unit(target)] > own
    )
    assert not above, f"{module} ({names[own]}) imports a layer listed after its own: {above}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_framework_package_never_imports_another(framework: str) -> None:
    crossing = sorted(
        f"{module} -> {target}"
        for module, path in _modules()
        if _unit(module) == framework
        for target in _imports(path, module)
        if _unit(target) in FRAMEWORKS and _unit(target) != framework
    )
    assert not crossing, crossing


def test_the_layer_table_is_the_one_architecture_md_shows() -> None:
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for layer, units in LAYERS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| {layer} |")), None)
        assert row is not None, f"ARCHITECTURE.md has no row for the {layer!r} layer"
        for unit in units:
            assert f"`{unit}`" in row or f"`{unit}/`" in row, f"{unit} missing from {layer!r}"


def test_the_scanner_sees_lazy_imports_and_skips_type_checking_blocks(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from atoma_integrations import _registry\n"
        "if TYPE_CHECKING:\n"
        "    from atoma_integrations.langchain import ChatAtoma\n"
        "def f():\n"
        "    from atoma_integrations._client import AtomaClient\n"
        "    from . import _sse\n",
        encoding="utf-8",
    )
    assert _imports(source, "sample") == {"_registry", "_client", "_sse"}

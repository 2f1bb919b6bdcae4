"""Run every Python block of README.md and docs/*.md as a test, with Sybil.

The root ``conftest.py`` hands :data:`pytest_collect_file` to pytest, so a plain ``pytest``
collects each block as one test item; a new ``docs/*.md`` file is picked up with no change
here. What a block runs against:

- **The local llama.cpp server** (``TS_BASE_URL``, started by ``make test``), by default.
  The block runs with ``ATOMA_BASE_URL`` set to it and no Atoma key, as the README's
  "Without an Atoma key" section tells a reader to do, and with the Atoma model ids the
  docs show replaced by the local ones (:data:`ATOMA_MODEL_IDS`): exactly the two changes
  a reader makes.
- **The scripted Atoma stand-in** (``tests/support/atoma_stand_in.py``) for a block after
  ``<!-- docs-test: atoma-stand-in -->``: what only Atoma's backends do. Those blocks keep
  the Atoma ids. The doc says so in a visible note beside the directive
  (``tests/docs/test_docs_rules.py`` checks that).
- **The signing relay in front of the local server** (``tests/support/relay.py``) for a
  block after ``<!-- docs-test: signing-relay -->``: signature checks, which need answers
  signed the way an Atoma node signs them. The local ids replace the Atoma ones, and the
  placeholder address a reader replaces with their node's (``NODE = "0x" + "0" * 64``)
  becomes the relay's, as a reader pinning the relay would write it; again with a visible
  note beside the directive.

Blocks of a page under ``docs/`` share one namespace and run in order, as a reader reads
them; each README block runs in a fresh namespace, so each is self-contained. Sybil's
``<!-- skip: next "why" -->`` skips a block (with the reason visible in the doc too).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.evaluators.python import pad
from sybil.parsers.markdown import CodeBlockParser, SkipParser

from tests.support.atoma_stand_in import AtomaStandIn
from tests.support.relay import relay_for

__all__ = [
    "ATOMA_MODEL_IDS",
    "DOCS_SYBIL",
    "DocsServers",
    "doc_paths",
    "docs_servers",
    "pytest_collect_file",
    "pytest_collection_modifyitems",
]

# Ray picks the machine's outward address unless told it is a one-machine cluster; read when
# ray is imported, which a doc block may be the first to do (as tests/ray/conftest.py does).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

ROOT = Path(__file__).resolve().parents[2]


def doc_paths() -> list[Path]:
    """The documents whose Python blocks are tests: README.md and every docs/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


ATOMA_MODEL_IDS = {
    "meta-llama/Llama-3.3-70B-Instruct": ("TS_MODEL_ID", "tiny-llama"),
    "intfloat/multilingual-e5-large-instruct": ("TS_EMBED_MODEL_ID", "tiny-llama-embed"),
}
"""The Atoma ids the docs show, and the local server's id each stands for (env var, default)."""

STAND_IN = "atoma-stand-in"
"""The ``docs-test`` directive's argument that runs the next block on the stand-in."""
SIGNING_RELAY = "signing-relay"
"""The ``docs-test`` directive's argument that runs the next block through the relay."""
_TARGETS = (STAND_IN, SIGNING_RELAY)
# The trusted node a reader pins, as the docs write it; a relay block pins the relay's key.
_NODE_PLACEHOLDER = re.compile(r'^(\s*NODE = )"0x" \+ "0" \* 64', re.MULTILINE)
_KEY_VARIABLES = ("ATOMA_API_KEY", "ATOMASDK_BEARER_AUTH")


@dataclass(frozen=True)
class DocsServers:
    """Where the blocks run: the local server and the stand-in, with the local model ids."""

    local_url: str
    stand_in_url: str
    relay_url: str
    relay_signer: str
    """The relay's Sui address, pinned by the relay blocks."""
    model_ids: dict[str, str]
    workdir: Path
    """Where the blocks run: files they write (Parquet folders ...) land here."""


@pytest.fixture(scope="session")
def docs_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsServers]:
    """The local server's URL and ids (from ``make test``) and a running stand-in."""
    url = os.environ.get("TS_BASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TS_BASE_URL is not set: run the suite with `make test`")
        pytest.skip("no local server: run the suite with `make test`")
    ids = {atoma: os.environ.get(var, default) for atoma, (var, default) in ATOMA_MODEL_IDS.items()}
    with AtomaStandIn() as stand_in, relay_for(url) as relay:
        try:
            yield DocsServers(
                url,
                stand_in.base_url,
                relay.base_url,
                relay.signer,
                ids,
                tmp_path_factory.mktemp("docs"),
            )
        finally:
            _shutdown_ray()


def _shutdown_ray() -> None:
    ray = __import__("sys").modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


def _ensure_ray(base_url: str) -> None:
    """Start Ray with ``ATOMA_BASE_URL`` on its workers (they read it when unpickling).

    Workers take the environment of ``ray.init``; a cluster already up without it (the
    tests/ray session cluster, whose tests ran before the docs) is replaced.
    """
    import ray

    if ray.is_initialized():
        if ray.get_runtime_context().runtime_env.get("env_vars", {}).get("ATOMA_BASE_URL") == (
            base_url
        ):
            return
        ray.shutdown()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": {"ATOMA_BASE_URL": base_url}},
    )
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False


class _Environment:
    """For one block: ``ATOMA_BASE_URL`` set, no Atoma key, ``workdir`` as the current
    directory; all restored afterwards."""

    def __init__(self, base_url: str, workdir: Path) -> None:
        self.base_url = base_url
        self.workdir = workdir
        self.saved: dict[str, str | None] = {}
        self.cwd = Path.cwd()

    def __enter__(self) -> None:
        for name in ("ATOMA_BASE_URL", *_KEY_VARIABLES):
            self.saved[name] = os.environ.pop(name, None)
        os.environ["ATOMA_BASE_URL"] = self.base_url
        self.cwd = Path.cwd()
        os.chdir(self.workdir)

    def __exit__(self, *exc: object) -> None:
        os.chdir(self.cwd)
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _uses_ray(source: str) -> bool:
    return re.search(r"^\s*(import ray|from ray)", source, re.MULTILINE) is not None


def evaluate_block(example: Example, *, target: str | None) -> None:
    """Run one Python block against the local server, or the ``docs-test`` target named."""
    __tracebackhide__ = True
    servers: DocsServers = example.namespace["docs_servers"]
    source = str(example.parsed)
    if target == STAND_IN:
        base_url = servers.stand_in_url
    else:
        base_url = servers.local_url
        for atoma_id, local_id in servers.model_ids.items():
            source = source.replace(f'"{atoma_id}"', f'"{local_id}"')
        if target == SIGNING_RELAY:
            base_url = servers.relay_url
            source = _NODE_PLACEHOLDER.sub(rf'\g<1>"{servers.relay_signer}"', source)
    code = compile(
        pad(source, example.line + example.parsed.line_offset),
        example.path,
        "exec",
        dont_inherit=True,
    )
    # README blocks stand alone; a docs page reads in order (its blocks share names).
    # Run as a script would: classes a block defines are __main__'s, which Ray pickles by value.
    standalone = Path(example.path).name == "README.md"
    namespace: dict[str, Any] = {} if standalone else example.namespace
    namespace.setdefault("__name__", "__main__")
    with _Environment(base_url, servers.workdir):
        if _uses_ray(source):
            # Started from the working directory, as a script run there would: Ray's
            # workers write a relative path (write_parquet("prompts.parquet")) there.
            _ensure_ray(base_url)
        exec(code, namespace)
    namespace.pop("__builtins__", None)


_DIRECTIVE = re.compile(r"^<!-- docs-test: (?P<target>\S+) -->$", re.MULTILINE)


class DocBlockParser:
    """Python blocks, each bound to its server by the directive right above it (if any).

    The target is fixed when the page is parsed, so a block selected on its own
    (``pytest "docs/x.md::line:12,column:1"``) still runs where its page says.
    """

    def __init__(self) -> None:
        self.blocks = CodeBlockParser(language="python")

    def __call__(self, document: Document) -> Iterator[Region]:
        for directive in _DIRECTIVE.finditer(document.text):
            if directive.group("target") not in _TARGETS:
                raise ValueError(
                    f"{document.path}: unknown docs-test target {directive.group('target')!r} "
                    f"(known: {', '.join(_TARGETS)})"
                )
        for region in self.blocks(document):
            before = document.text[: region.start].rstrip().splitlines()
            directive = _DIRECTIVE.match(before[-1].strip()) if before else None
            target = directive.group("target") if directive is not None else None
            region.evaluator = partial(evaluate_block, target=target)
            yield region


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the blocks: ``docs`` on each, ``ray`` on those that start Ray (``-m "not ray"``)."""
    for item in items:
        example = getattr(item, "example", None)
        if isinstance(example, Example):
            item.add_marker(pytest.mark.docs)
            if _uses_ray(str(example.parsed)):
                item.add_marker(pytest.mark.ray)


def _teardown(namespace: dict[str, Any]) -> None:
    # LlamaIndex's Settings are process-wide: a page that sets them must not leak into others.
    import sys

    core = sys.modules.get("llama_index.core")
    if core is not None:
        settings = core.Settings
        settings._llm = None
        settings._embed_model = None
        settings._callback_manager = None
    namespace.clear()


class _DocsSybil(Sybil):
    """Sybil on exactly README.md at the root and docs/*.md (not other folders' READMEs)."""

    def should_parse(self, path: Path) -> bool:
        try:
            parts = path.relative_to(self.path).parts
        except ValueError:
            return False
        return parts == ("README.md",) or (
            len(parts) == 2 and parts[0] == "docs" and parts[1].endswith(".md")
        )


DOCS_SYBIL = _DocsSybil(
    parsers=[
        SkipParser(),
        DocBlockParser(),
    ],
    path=str(ROOT),
    fixtures=["docs_servers"],
    teardown=_teardown,
)
"""The Sybil that parses README.md and docs/*.md."""

pytest_collect_file = DOCS_SYBIL.pytest()
"""The hook the root conftest.py exposes: one test item per Python block."""

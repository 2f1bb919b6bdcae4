"""The quick-start notebooks, executed top to bottom against the local server as a reader would.

Each notebook runs in a fresh ipykernel on this interpreter (the project's venv), with
``TS_BASE_URL`` / ``TS_MODEL_ID`` pointing at the test server and no ``ATOMA_*`` variables,
so its configuration cell picks the local server. Any cell that raises fails the test with
the cell's traceback; the checks after that read the outputs a reader would look at.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

pytestmark = pytest.mark.notebook

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
# Seconds one cell may take. The tiny model answers in milliseconds; the slack covers
# kernel start-up and framework imports on a busy 2-core CI machine.
CELL_TIMEOUT = 60

RunNotebook = Callable[[str], nbformat.NotebookNode]


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """Kernel specs holding only ``python3`` bound to this interpreter.

    A ``python3`` kernelspec installed for the user (or by another Python) would otherwise
    win, and the notebooks would import whatever that interpreter has installed rather
    than the package under test.
    """
    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(kernels / "python3")
    return KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)


@pytest.fixture
def run_notebook(
    kernel_specs: KernelSpecManager, server_base_url: str, server_model: str
) -> RunNotebook:
    """A function that executes a notebook in ``notebooks/`` and returns it with outputs."""

    def run(name: str) -> nbformat.NotebookNode:
        notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATOMA")}
        env.update(TS_BASE_URL=server_base_url, TS_MODEL_ID=server_model)
        kernel = KernelManager(kernel_name="python3", kernel_spec_manager=kernel_specs)
        NotebookClient(
            notebook,
            km=kernel,
            timeout=CELL_TIMEOUT,
            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
        ).execute(env=env)
        return notebook

    return run


def cell_output(notebook: nbformat.NotebookNode, cell_id: str) -> str:
    """Everything the cell with ``cell_id`` showed: printed text and its result's text."""
    cells = [c for c in notebook.cells if c.get("id") == cell_id]
    assert cells, f"no cell with id {cell_id!r}"
    parts: list[str] = []
    for output in cells[0].get("outputs", []):
        assert output.output_type != "error", output
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def assert_no_errors(notebook: nbformat.NotebookNode) -> None:
    """No cell produced an error output (nbclient raises on the first one anyway)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", (cell.source, output)


def test_langchain_quickstart(run_notebook: RunNotebook, server_base_url: str) -> None:
    notebook = run_notebook("langchain_quickstart.ipynb")
    assert_no_errors(notebook)
    assert server_base_url in cell_output(notebook, "config")


def test_llamaindex_quickstart(run_notebook: RunNotebook, server_base_url: str) -> None:
    notebook = run_notebook("llamaindex_quickstart.ipynb")
    assert_no_errors(notebook)
    assert server_base_url in cell_output(notebook, "config")

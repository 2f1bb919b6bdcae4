"""The quick-start notebooks, executed top to bottom against the local server as a reader would.

Each notebook runs in a fresh ipykernel on this interpreter (the project's venv), with
``TS_BASE_URL`` / ``TS_MODEL_ID`` pointing at the test server and no ``ATOMA_*`` variables,
so its configuration cell picks the local server. Any cell that raises fails the test with
the cell's traceback; the checks after that read the outputs a reader would look at.
"""

from __future__ import annotations

import ast
import functools
import os
import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

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
    kernel_specs: KernelSpecManager,
    server_base_url: str,
    server_model: str,
    server_chat_model: str,
    server_embed_model: str,
) -> RunNotebook:
    """A function that executes a notebook in ``notebooks/`` and returns it with outputs."""

    def run(name: str) -> nbformat.NotebookNode:
        notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATOMA")}
        env.update(
            TS_BASE_URL=server_base_url,
            TS_MODEL_ID=server_model,
            TS_CHAT_MODEL_ID=server_chat_model,
            TS_EMBED_MODEL_ID=server_embed_model,
        )
        kernel = KernelManager(kernel_name="python3", kernel_spec_manager=kernel_specs)
        client = NotebookClient(
            notebook,
            km=kernel,
            timeout=CELL_TIMEOUT,
            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
        )
        try:
            client.execute(env=env)
        finally:
            # nbclient shuts down only kernels it created itself, and stops only the channels
            # of those. Left open, the client's zmq channels keep reconnecting to the dead
            # kernel (opening and closing descriptors and a heartbeat thread for the rest of
            # the session, which the leak tests would count), and the kernel would hold its
            # process, pipes and sockets.
            if client.kc is not None:
                client.kc.stop_channels()
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=True)
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
    out = functools.partial(cell_output, notebook)

    assert server_base_url in out("config")
    assert out("chain").strip()
    assert out("stream").strip()
    # The handler saw every token, in order, before invoke() returned the whole text.
    assert "the recorded tokens joined equal the answer: True" in out("callback")
    for cell in ("batch", "abatch"):
        assert out(cell).count(" ->") == 3, out(cell)
    # generate() reports a finish reason per prompt and the usage summed over both.
    assert len(re.findall(r"^\s*(stop|length): ", out("usage"), re.MULTILINE)) == 2
    usage = re.search(
        r"usage: \{'prompt_tokens': (\d+), 'completion_tokens': (\d+), 'total_tokens': (\d+)\}",
        out("usage"),
    )
    assert usage is not None, out("usage")
    prompt_tokens, completion_tokens, total_tokens = map(int, usage.groups())
    assert prompt_tokens > 0 and completion_tokens > 0
    assert total_tokens == prompt_tokens + completion_tokens
    # Errors: one caught before sending, one typed from the server's answer.
    assert "refused before sending (CompletionRequest): temperature:" in out("error-validation")
    assert "ContextLengthExceededError 400 context_length_exceeded" in out("error-context")
    assert "also a LangChain ContextOverflowError: True" in out("error-context")


def test_llamaindex_quickstart(run_notebook: RunNotebook, server_base_url: str) -> None:
    notebook = run_notebook("llamaindex_quickstart.ipynb")
    assert_no_errors(notebook)
    out = functools.partial(cell_output, notebook)

    assert server_base_url in out("config")
    assert "context_window=2048" in out("llm")
    assert "'finish_reason': " in out("complete")
    # The deltas printed one by one add up to the final response's text.
    streamed, final = out("stream").split("\nfinal text: ", 1)
    assert ast.literal_eval(final.splitlines()[0]) == streamed
    assert "answered from 3 documents" in out("query")
    # The token counter took the server's usage for the call, not a tokenizer's estimate.
    handler = re.search(
        r"handler: (\d+) prompt \+ (\d+) completion tokens in 1 call", out("tokens")
    )
    server = re.search(r"server: +(\d+) prompt \+ (\d+) completion tokens", out("tokens"))
    assert handler is not None and server is not None, out("tokens")
    assert handler.groups() == server.groups()
    assert re.search(r"the query took 1 LLM call\(s\), [1-9]\d* tokens in all", out("tokens-query"))
    assert out("acomplete").strip()
    assert out("astream").strip()
    assert out("agather").count(" ->") == 2


def test_chat_and_tools(run_notebook: RunNotebook, server_base_url: str) -> None:
    notebook = run_notebook("chat_and_tools.ipynb")
    assert_no_errors(notebook)
    out = functools.partial(cell_output, notebook)

    assert server_base_url in out("config")
    assert re.search(r"usage: \{'input_tokens': \d+, 'output_tokens': \d+", out("chat"))
    # A forced call of the one tool, with arguments from its schema, and a reply to it.
    assert re.search(r"tool call: get_weather\(\{'city': '(Paris|London|Tokyo)'\}\)", out("tools"))
    assert "invalid tool calls: []" in out("tools")
    assert re.search(r"tool result for .*: (sunny|light rain|cloudy)", out("tool-answer"))
    assert "reply:" in out("tool-answer")
    # Streamed in pieces, merged into exactly one call named once.
    merged = re.search(r"merged: \[\('get_weather', \{'city': '\w+'\}\)\]", out("tool-stream"))
    assert merged is not None, out("tool-stream")
    assert re.search(r"^Trip city='(Paris|London|Tokyo)' days=\d+", out("structured"))
    assert re.search(r"parsed: \{'city': '\w+', 'days': \d+\}", out("structured-raw"))
    assert "parsing_error: None" in out("structured-raw")
    # LlamaIndex's AtomaChat: a forced call of the one tool, run by predict_and_call, and a
    # structured answer filled through function calling.
    assert "finish_reason: tool_calls" in out("llama-tool")
    assert re.search(
        r"tool call: city_weather\(\{'city': '(Paris|London|Tokyo)'\}\)", out("llama-tool")
    )
    assert re.search(r"tool result: (sunny|light rain|cloudy)", out("llama-tool"))
    assert re.search(
        r"^WeatherReport sky='(sunny|cloudy|rainy)' temperature_celsius=-?\d+",
        out("llama-structured"),
    )


def test_rag_on_atoma(run_notebook: RunNotebook, server_embed_model: str) -> None:
    notebook = run_notebook("rag_on_atoma.ipynb")
    assert_no_errors(notebook)
    out = functools.partial(cell_output, notebook)

    assert f"embeddings from {server_embed_model}" in out("config")
    embedded = re.search(r"^6 vectors of (\d+) floats, model (\S+)", out("embed"), re.MULTILINE)
    assert embedded is not None and int(embedded.group(1)) > 0, out("embed")
    assert embedded.group(2) == server_embed_model
    # Six documents, one embedding request (embed_batch_size is 100): one callback event.
    assert "indexed 6 documents in 1 embedding call(s)" in out("li-index")
    # Each retriever returns two of the notebook's documents (with a score, in LlamaIndex).
    documents = next(c.source for c in notebook.cells if c.get("id") == "documents")
    hits = re.findall(r"^-?\d\.\d{3}  (.+)$", out("li-index"), re.MULTILINE)
    assert len(hits) == 2 and all(f'"{hit}"' in documents for hit in hits), hits
    answer, sources = out("li-query").rsplit("answered from ", 1)
    assert answer.split("A:", 1)[1].strip(), answer
    assert sources.startswith("2 retrieved document(s)")
    retrieved = [line for line in out("lc-store").splitlines() if line.strip()]
    assert len(retrieved) == 2 and all(f'"{line}"' in documents for line in retrieved)
    assert out("lc-chain").split("A:", 1)[1].strip()
    assert out("async").count(" ->") == 2

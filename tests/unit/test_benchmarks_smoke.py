"""The benchmark harness runs end to end (``benchmarks/run.py --smoke``) and reports sanely.

No timing is asserted (CI machines are noisy); what is asserted is what a reader of
RESULTS.md relies on: every workload has every peer, ratios are relative to raw httpx, every
target of ``benchmarks/README.md`` gets a verdict, and our client reuses its connection for
every stream (a count, not a timing).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOOR = "httpx (floor)"
ALL_PEERS = {
    FLOOR,
    "openai SDK",
    "AtomaClient",
    "httpx-sse + typed chunks",
    "langchain_openai.OpenAI",
    "AtomaLLM",
    "LangChain floor",
    "OpenAILike",
    "llama_index Atoma",
    "LlamaIndex floor",
}


OLD_RAY_SECTION = (
    "<!-- ray_batch.py: begin -->\n## Ray Data batch completion\n\n| a | b |\n"
    "<!-- ray_batch.py: end -->"
)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, str]:
    """One ``--smoke`` run of the harness: its JSON results, its Markdown and its stdout."""
    out = tmp_path_factory.mktemp("bench")
    # A report from an earlier run, with the section benchmarks/ray_batch.py writes.
    (out / "RESULTS.md").write_text(f"# an old report\n\n{OLD_RAY_SECTION}\n\nold tail\n")
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--smoke",
            "--json",
            str(out / "results.json"),
            "--output",
            str(out / "RESULTS.md"),
        ],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=ROOT,
        check=False,
    )
    # Exit status 1 means "a target was missed", which smoke-sized runs may well report.
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    return results, (out / "RESULTS.md").read_text(), completed.stdout


def test_every_peer_is_measured_or_skipped_with_a_reason(
    smoke_run: tuple[dict[str, Any], str, str],
) -> None:
    results, _, _ = smoke_run
    measured, skipped = set(results["peers"]), set(results["skipped"])
    assert measured | skipped == ALL_PEERS
    assert not measured & skipped
    assert {FLOOR, "AtomaClient"} <= measured
    assert all(reason for reason in results["skipped"].values())


def test_every_workload_has_every_peer_relative_to_raw_httpx(
    smoke_run: tuple[dict[str, Any], str, str],
) -> None:
    results, _, _ = smoke_run
    workloads = results["workloads"]
    tables = [workloads["w1_request"], workloads["ttft"], *workloads["w2_token"].values()]
    assert set(workloads["w2_token"]) == {"openai", "atoma"}
    for table in tables:
        assert set(table) == set(results["peers"])
        assert table[FLOOR]["cpu_ratio"] == 1.0
        assert table[FLOOR]["wall_ratio"] == 1.0
        for figures in table.values():
            assert all(math.isfinite(figures[key]) for key in figures)
    # Whole requests and streams take time; a per-token slope may be noisy, not these.
    for table in (workloads["w1_request"], workloads["ttft"]):
        assert all(f["cpu"] > 0 and f["wall"] > 0 for f in table.values())


ASYNC_PEERS = {
    "httpx.AsyncClient",
    "httpx on aiohttp (raw)",
    "aiohttp (raw)",
    "openai AsyncOpenAI",
    "openai AsyncOpenAI (aiohttp)",
    "AsyncAtomaClient",
    "AsyncAtomaClient (transport=httpx)",
    "AtomaLLM.abatch",
    "llama_index Atoma gather",
}


def test_the_concurrency_sweep_measures_every_async_peer_at_every_level(
    smoke_run: tuple[dict[str, Any], str, str],
) -> None:
    results, markdown, _ = smoke_run
    sweep = results["w3_sweep"]
    assert set(sweep["peers"]) | set(sweep["skipped"]) == ASYNC_PEERS
    assert {"httpx.AsyncClient", "httpx on aiohttp (raw)", "AsyncAtomaClient"} <= set(
        sweep["peers"]
    )
    assert {(lv["kind"], lv["in_flight"]) for lv in sweep["levels"]} == {
        ("requests", 4),
        ("streams", 4),
    }
    for level in sweep["levels"]:
        assert set(level["figures"]) | set(level["failed"]) == set(sweep["peers"])
        base = level["figures"]["httpx.AsyncClient"]
        assert base["x_base_requests_per_s"] == 1.0
        assert level["figures"]["httpx on aiohttp (raw)"]["x_floor_time_per_call"] == 1.0
        for figures in level["figures"].values():
            assert figures["requests_per_s"] > 0 and figures["tokens_per_s"] > 0
            assert math.isclose(
                figures["tokens_per_s"], figures["requests_per_s"] * level["tokens"]
            )
    assert "## W3 concurrency sweep" in markdown


def test_our_client_opens_no_connection_per_stream(
    smoke_run: tuple[dict[str, Any], str, str],
) -> None:
    results, _, _ = smoke_run
    connections = results["connections"]
    assert connections["AtomaClient"] == {"openai": 0, "atoma": 0}
    for name in ("AtomaLLM", "llama_index Atoma"):
        if name in results["peers"]:
            assert connections[name] == {"openai": 0, "atoma": 0}


def test_every_design_target_gets_a_verdict(
    smoke_run: tuple[dict[str, Any], str, str],
) -> None:
    results, _, _ = smoke_run
    figures = [t["figure"] for t in results["targets"]]
    assert any(f.startswith("AtomaClient per request") for f in figures)
    assert sum(f.startswith("AtomaClient per token") for f in figures) == 2
    assert any(f.startswith("import atoma_integrations") for f in figures)
    assert any(f.startswith("AsyncAtomaClient requests/s at 64") for f in figures)
    assert any(f.startswith("AsyncAtomaClient time per request at 4 in flight") for f in figures)
    for target in results["targets"]:
        assert target["met"] in (True, False, None)
        if target["value"] is not None and target["figure"].startswith("AtomaClient"):
            assert target["met"] is not None
    imports = results["imports"]
    assert {"httpx + pydantic", "atoma_integrations"} <= set(imports)
    assert set(results["cold_start"]) == {FLOOR, "AtomaClient"}


def test_the_report_names_the_machine_and_shows_the_tables(
    smoke_run: tuple[dict[str, Any], str, str],
) -> None:
    results, markdown, stdout = smoke_run
    machine = results["machine"]
    assert machine["cores"] and machine["python"] and machine["cpu"]
    assert f"Python {machine['python']}" in markdown
    for heading in ("## Targets", "## W1 per request", "## W2 per streamed token", "## Method"):
        assert heading in markdown
    assert "\nTargets\n" in stdout
    assert "AtomaClient" in stdout


EMBEDDING_PEERS = {
    FLOOR,
    "openai SDK",
    "AtomaClient",
    "OpenAIEmbeddings",
    "AtomaEmbeddings",
    "OpenAIEmbedding",
    "AtomaEmbedding",
}


def test_embeddings_workload_has_every_peer_and_a_verdict_per_target(
    smoke_run: tuple[dict[str, Any], str, str],
) -> None:
    results, markdown, _ = smoke_run
    measured, skipped = set(results["embedding_peers"]), set(results["embedding_skipped"])
    assert measured | skipped == EMBEDDING_PEERS and not measured & skipped
    assert {FLOOR, "AtomaClient", "AtomaEmbeddings", "AtomaEmbedding"} <= measured
    table = results["workloads"]["embeddings"]
    assert set(table) == measured
    assert table[FLOOR]["cpu_ratio"] == 1.0
    assert all(f["cpu"] > 0 and f["wall"] > 0 for f in table.values())
    figures = {t["figure"]: t for t in results["targets"] if t["figure"].startswith("embeddings")}
    assert len(figures) == 5
    assert figures["embeddings: AtomaClient (x httpx (floor))"]["met"] is not None
    assert "## Embeddings, " in markdown


def test_a_new_report_keeps_the_ray_section_and_replaces_the_rest(
    smoke_run: tuple[dict[str, Any], str, str],
) -> None:
    _, markdown, _ = smoke_run
    assert markdown.count(OLD_RAY_SECTION) == 1  # run.py measures no Ray: it keeps that part
    assert "an old report" not in markdown and "old tail" not in markdown
    assert markdown.startswith("# Benchmark results")


def test_the_chat_benchmark_runs_every_peer_and_writes_only_its_section(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    report.write_text(f"# Benchmark results\n\nother workloads\n\n{OLD_RAY_SECTION}\n")
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "chat_stream.py"),
            "--smoke",
            "--output",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=200,  # two streams (answer, reasoning) on two wires, on a loaded machine
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr[-3000:]  # 1: a target missed
    text = report.read_text()
    assert text.startswith("# Benchmark results\n\nother workloads\n\n" + OLD_RAY_SECTION)
    section = text[text.index("<!-- chat_stream.py: begin -->") :]
    assert section.rstrip().endswith("<!-- chat_stream.py: end -->")
    assert "skipped" not in section  # every peer streamed the right text and was measured
    for wire in ("openai", "atoma"):
        body = section[section.index(f"### {wire} wire") :]
        for peer in (
            "httpx (floor)",
            "AtomaClient chat",
            "openai SDK chat",
            "ChatAtoma",
            "langchain_openai.ChatOpenAI",
            "LangChain chat floor",
            "AtomaChat",
            "OpenAILike (chat)",
            "LlamaIndex chat floor",
        ):
            assert f"| {peer} |" in body
        # The reasoning stream: every peer streamed its reasoning and its text, checked.
        reasoning = body[body.index(f"### {wire} wire, reasoning stream") :]
        for peer in (
            "httpx (floor)",
            "AtomaClient chat (reasoning)",
            "ChatAtoma (reasoning)",
            "LangChain chat floor (reasoning)",
            "AtomaChat (reasoning)",
            "LlamaIndex chat floor (reasoning)",
        ):
            assert f"| {peer} |" in reasoning
    for target in ("AtomaClient chat", "ChatAtoma", "AtomaChat"):
        for wire in ("openai", "atoma"):
            assert f"| {target} (reasoning) per token | {wire} |" in section

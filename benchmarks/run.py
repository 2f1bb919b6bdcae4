"""Run the benchmarks: ``python benchmarks/run.py [--quick | --smoke] [--output PATH]``.

One run starts one canned SSE server in a child process (:mod:`benchmarks.sse_server`),
measures every peer against it side by side (:mod:`benchmarks.measure`), prints a table
and, in full mode, writes ``benchmarks/RESULTS.md``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script: make ``benchmarks`` importable as a package from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import measure
from benchmarks.concurrency import SweepConfig, sweep
from benchmarks.embedding_peers import build_embedding_peers
from benchmarks.measure import COLD_START_SUBJECTS, IMPORT_SUBJECTS, Config
from benchmarks.peers import build_peers
from benchmarks.report import (
    RESULTS_PATH,
    evaluate_targets,
    machine_info,
    owned_sections,
    render_console,
    render_markdown,
    with_section,
)
from benchmarks.sse_server import WIRES, ServerProcess

SWEEPS: dict[str, SweepConfig] = {
    # The sweep: 16 to 1,024 requests in flight, 64 and 256 streams of 200 tokens.
    "full": SweepConfig(),
    "quick": SweepConfig(
        request_levels=(16, 64), stream_levels=(64,), stream_tokens=50, min_requests=64, trials=1
    ),
    "smoke": SweepConfig(
        request_levels=(4,), stream_levels=(4,), stream_tokens=8, min_requests=4, trials=1
    ),
}

CONFIGS: dict[str, Config] = {
    # About 3 minutes on a 2-core machine.
    "full": Config(trials=7, embed_trials=5),
    # Under 20 s: fewer and shorter trials, and only the core's import.
    "quick": Config(
        trials=3,
        embed_texts=2_000,
        requests_per_trial=15,
        long_tokens=256,
        streams_per_trial=2,
        ttft_streams=6,
        connection_streams=3,
        import_trials=3,
        import_subjects=(
            "httpx + pydantic",
            "atoma_integrations",
            "atoma_integrations AtomaClient",
        ),
        cold_start_subjects=("httpx (floor)", "AtomaClient"),
    ),
    # For the test suite: every workload runs, on the smallest sizes that still mean something.
    "smoke": Config(
        trials=2,
        embed_texts=250,
        requests_per_trial=3,
        long_tokens=64,
        short_tokens=4,
        streams_per_trial=1,
        ttft_streams=2,
        connection_streams=2,
        import_trials=1,
        import_subjects=("httpx + pydantic", "atoma_integrations"),
        cold_start_subjects=("httpx (floor)", "AtomaClient"),
    ),
}

METHOD = """
See `benchmarks/README.md` for the full method. In short:

- One server, one run. A model-free server (`benchmarks/sse_server.py`) runs in its own
  process on 127.0.0.1 and answers from pre-encoded bytes, each SSE event in its own HTTP
  chunk but a whole stream in one socket write, so the client is never waiting for it and
  what is measured is the client. Two wire formats: `openai` (vLLM/OpenAI: usage chunk, then
  `data: [DONE]`) and `atoma` (Atoma's proxy: no `[DONE]`, `: keep-alive` comments, and
  `response_hash` / `signature` on every chunk).
- Interleaved trials. Every trial runs every peer once, in an order rotated from trial to
  trial; a figure is the median over trials and a ratio is the median of per-trial ratios to
  raw httpx, so drift on a shared machine cancels out.
- CPU time of the client process is the primary measure (it excludes the server and other
  processes on the machine); wall time is shown next to it.
- W2's per-token cost is the slope between a long and a short stream of the same peer, so
  the per-request part of a stream (measured by W1 and time to first token) is not in it.
  "Above httpx" is the peer's per-token CPU minus raw httpx's.
- Raw httpx is a hand-written `iter_lines` + `json.loads` loop (and `post` + `.json()` for
  W1) that reads each body to its end; the LangChain and LlamaIndex floors are that loop
  inside a minimal `BaseLLM` / `CustomLLM`: their cost above httpx is the framework's own.
- Import time and RSS growth are measured in fresh interpreters, interleaved; the figure is
  the minimum over interpreters (an import is fixed work: only other load slows it).
- W3 sweeps 16 to 1,024 requests (and 64 and 256 streams) in flight on one event loop for
  every async client; see the sweep's own note below its heading.

Why each of our figures is what it is (profiles, and what would change it): the section
"What limits our figures" of `benchmarks/README.md`.
"""


def _subset(subjects: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {k: v for k, v in subjects.items() if not names or k in names}


def _run_embeddings(base_url: str, config: Config, results: dict[str, Any]) -> None:
    """The embeddings workload, with its own peers (see :mod:`benchmarks.embedding_peers`):
    figures in ``workloads["embeddings"]``, peers in ``embedding_peers``, and skipped peers
    in ``embedding_skipped``."""
    peer_set = build_embedding_peers(base_url)
    try:
        gc.collect()
        gc.freeze()
        results["workloads"]["embeddings"] = measure.embedding_throughput(peer_set.peers, config)
    finally:
        peer_set.close()
    results["embedding_peers"] = {
        peer.name: {"family": peer.family, "kind": peer.kind} for peer in peer_set.peers
    }
    results["embedding_skipped"] = peer_set.skipped


def run_benchmarks(mode: str, log: Any = None) -> dict[str, Any]:
    """Run every workload in ``mode`` (``full``, ``quick`` or ``smoke``); return the results."""
    config = CONFIGS[mode]
    started = time.perf_counter()

    def say(message: str) -> None:
        if log is not None:
            print(f"[bench {time.perf_counter() - started:5.1f}s] {message}", file=log, flush=True)

    results: dict[str, Any] = {
        "mode": mode,
        "machine": machine_info(),
        "config": measure.describe_config(config),
        "workloads": {"w2_token": {}},
        "peers": {},
        "skipped": {},
    }
    say("starting the canned SSE server")
    with ServerProcess() as server:
        say(f"server on port {server.port}; building peers (imports the frameworks)")
        peer_sets = {wire: build_peers(server.base_url(wire)) for wire in WIRES}
        try:
            for peer_set in peer_sets.values():
                results["skipped"].update(peer_set.skipped)
                for peer in peer_set.peers:
                    results["peers"][peer.name] = {"family": peer.family, "kind": peer.kind}
            # The frameworks' hundreds of thousands of long-lived objects would make every
            # full collection take ~0.1 s; frozen, collections see only what a peer allocates.
            gc.collect()
            gc.freeze()
            main = peer_sets["openai"].peers
            say(f"peers: {', '.join(p.name for p in main)}")
            say("W1 per request")
            results["workloads"]["w1_request"] = measure.per_request(main, config)
            for wire, peer_set in peer_sets.items():
                say(f"W2 per token, {wire} wire")
                results["workloads"]["w2_token"][wire] = measure.per_token(peer_set.peers, config)
            say("time to first token")
            results["workloads"]["ttft"] = measure.time_to_first_token(main, config)
            results["w3_sweep"] = sweep(server.base_url("openai"), SWEEPS[mode], say)
            say("new connections per stream")
            results["connections"] = measure.count_connections(
                server, {wire: s.peers for wire, s in peer_sets.items()}, config
            )
        finally:
            for peer_set in peer_sets.values():
                peer_set.close()
        say(f"embeddings: {config.embed_texts} short texts per peer")
        _run_embeddings(server.base_url("openai"), config, results)
        imports = _subset(IMPORT_SUBJECTS, config.import_subjects)
        say(f"imports in fresh interpreters: {', '.join(imports)}")
        results["imports"], failures = measure.measure_imports(config, imports)
        cold = _subset(COLD_START_SUBJECTS, config.cold_start_subjects)
        say(f"cold start in fresh interpreters: {', '.join(cold)}")
        results["cold_start"], cold_failures = measure.measure_imports(
            config, cold, server.base_url("openai")
        )
        results["import_failures"] = {**failures, **cold_failures}
    results["targets"] = [t.as_dict() for t in evaluate_targets(results)]
    results["duration_s"] = time.perf_counter() - started
    say("done")
    return results


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (1 if a measured target was missed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="under 20 s; fewer, shorter trials")
    group.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"Markdown report path (full mode default: {RESULTS_PATH.name}; others: none)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results as JSON here")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    results = run_benchmarks(mode, log=sys.stderr)
    print(render_console(results))
    output = args.output or (RESULTS_PATH if mode == "full" else None)
    if output is not None:
        report = render_markdown(results, METHOD)
        if output.exists():
            for section in owned_sections(output.read_text(encoding="utf-8")):
                report = with_section(report, section)
        output.write_text(report, encoding="utf-8")
        print(f"\nwrote {output}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    missed = [t["figure"] for t in results["targets"] if t["met"] is False]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

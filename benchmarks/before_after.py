"""The package now against the package at an earlier commit, side by side in one run.

A refactor must leave the hot paths as fast as they were. Timing the two versions in two
runs on a shared machine compares two moments of its load, not two versions; here both
versions are imported into the same process (the earlier one copied out of git under the
name ``atoma_before``), and every trial times each of them, and raw httpx as the floor,
back to back, in an order rotated from trial to trial (``measure``'s method). Ratios are
taken within a trial, so drift hits both alike.

Workloads: W1 (per non-streamed request, the client), W2 (per streamed token: the client,
``AtomaLLM`` and LlamaIndex ``Atoma``, on both wires) and W3 (async requests/s and streams
with many in flight, the client). The earlier version's async streams are opened with
``async with``, which both versions support.

Run: ``.venv/bin/python -m benchmarks.before_after --ref e632e29`` (``--quick`` for fewer
trials). It writes its own section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import measure
from benchmarks.concurrency import AsyncPeer
from benchmarks.concurrency import Ours as AsyncOurs
from benchmarks.peers import AtomaLlamaIndexPeer, AtomaLLMPeer, Ours, Peer, RawHttpx
from benchmarks.report import RESULTS_PATH, section_markers, write_section
from benchmarks.run import CONFIGS
from benchmarks.sse_server import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "atoma_before"
BEGIN, END = section_markers("before_after.py")
WIRES = ("openai", "atoma")


def import_before(ref: str, into: Path) -> Any:
    """The package as it was at ``ref``, importable as ``atoma_before``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "atoma_integrations"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    package = into / BEFORE
    (into / "atoma_integrations").rename(package)
    name = re.compile(rb"\batoma_integrations\b")
    for path in package.rglob("*.py"):
        path.write_bytes(name.sub(BEFORE.encode(), path.read_bytes()))
    sys.path.insert(0, str(into))
    return importlib.import_module(BEFORE)


class OursBefore(Ours):
    """``AtomaClient`` at the earlier commit."""

    name = "AtomaClient (before)"

    def __init__(self, base_url: str) -> None:
        Peer.__init__(self, base_url)
        self._module = importlib.import_module(BEFORE)
        self._client = self._module.AtomaClient(base_url=base_url)
        self._aclient = None


class AtomaLLMBefore(AtomaLLMPeer):
    """``AtomaLLM`` at the earlier commit."""

    name = "AtomaLLM (before)"

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self._cls = importlib.import_module(f"{BEFORE}.langchain").AtomaLLM


class AtomaLlamaIndexBefore(AtomaLlamaIndexPeer):
    """LlamaIndex ``Atoma`` at the earlier commit."""

    name = "llama_index Atoma (before)"

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self._cls = importlib.import_module(f"{BEFORE}.llama_index").Atoma


class AsyncOursBefore(AsyncOurs):
    """``AsyncAtomaClient`` at the earlier commit."""

    name = "AsyncAtomaClient (before)"

    async def open(self) -> None:
        self.client = importlib.import_module(BEFORE).AsyncAtomaClient(base_url=self.base_url)


def _sync_peers(base_url: str) -> list[Peer]:
    return [
        RawHttpx(base_url),
        Ours(base_url),
        OursBefore(base_url),
        AtomaLLMPeer(base_url),
        AtomaLLMBefore(base_url),
        AtomaLlamaIndexPeer(base_url),
        AtomaLlamaIndexBefore(base_url),
    ]


async def _throughput(
    peers: list[AsyncPeer], width: int, stream: bool, calls: int, trials: int
) -> dict[str, float]:
    """Requests per second of each peer at ``width`` in flight: the median over trials."""
    rates: dict[str, list[float]] = {peer.name: [] for peer in peers}
    for peer in peers:
        await peer.open()
    try:
        for trial in range(trials):
            k = trial % len(peers)
            for peer in peers[k:] + peers[:k]:
                rounds = max(1, calls // width)
                gc.collect()
                start = time.perf_counter()
                for _ in range(rounds):
                    texts = await peer.level(width, 16, stream)
                    if min(len(t) for t in texts) < 16:
                        raise RuntimeError(f"{peer.name} returned short text")
                rates[peer.name].append(rounds * width / (time.perf_counter() - start))
    finally:
        for peer in peers:
            await peer.close()
    return {name: statistics.median(values) for name, values in rates.items()}


# (in flight, streamed) levels of W3, and its calls per level and peer (a multiple of width).
W3_LEVELS = ((64, False), (256, False), (64, True))
SMOKE_W3_LEVELS = ((8, False), (8, True))


def run(ref: str, mode: str) -> dict[str, Any]:
    """Every workload, both versions side by side; the figures by workload and peer.

    ``mode``: ``full`` (7 trials), ``quick`` (3) or ``smoke`` (the test suite's sizes).
    """
    config = (
        CONFIGS["smoke"] if mode == "smoke" else measure.Config(trials=7 if mode == "full" else 3)
    )
    levels = SMOKE_W3_LEVELS if mode == "smoke" else W3_LEVELS
    results: dict[str, Any] = {"ref": ref, "trials": config.trials}
    with tempfile.TemporaryDirectory() as tmp, ServerProcess() as server:
        import_before(ref, Path(tmp))
        peers = {wire: _sync_peers(server.base_url(wire)) for wire in WIRES}
        gc.collect()
        gc.freeze()
        clients = [p for p in peers["openai"] if p.family == "client"]
        results["w1_request"] = measure.per_request(clients, config)
        results["w2_token"] = {wire: measure.per_token(ps, config) for wire, ps in peers.items()}
        for peer_list in peers.values():
            for peer in peer_list:
                peer.close()
        base_url = server.base_url("openai")
        results["w3"] = {}
        for width, stream in levels:
            async_peers: list[AsyncPeer] = [AsyncOurs(base_url), AsyncOursBefore(base_url)]
            key = f"{width} {'streams' if stream else 'requests'} in flight"
            results["w3"][key] = asyncio.run(
                _throughput(async_peers, width, stream, 4 * width, config.trials)
            )
    return results


def _pairs(figures: dict[str, dict[str, float]]) -> list[tuple[str, float, float]]:
    """(peer, now, before) CPU ratios to raw httpx, for each peer measured in both versions."""
    return [
        (name, now["cpu_ratio"], figures[f"{name} (before)"]["cpu_ratio"])
        for name, now in figures.items()
        if f"{name} (before)" in figures
    ]


def report(results: dict[str, Any]) -> str:
    """The RESULTS.md section: per workload and peer, now / before."""
    lines = [
        f"Now against `{results['ref']}`, both imported into one process and timed back to back"
        f" in each of {results['trials']} rotated trials (`benchmarks/before_after.py`).",
        "CPU per request or token as a ratio to raw httpx in the same trial (median), and",
        "now / before: below 1.00 is faster now.",
        "",
        "| workload | peer | now | before | now / before |",
        "|---|---|---|---|---|",
    ]
    rows = [("W1 per request", results["w1_request"])]
    rows += [(f"W2 per token, {wire} wire", f) for wire, f in results["w2_token"].items()]
    for workload, figures in rows:
        for name, now, before in _pairs(figures):
            lines.append(
                f"| {workload} | {name} | {now:.2f}x | {before:.2f}x | {now / before:.2f} |"
            )
    lines += [
        "",
        "| W3 (async client) | requests/s now | before | now / before |",
        "|---|---|---|---|",
    ]
    for key, rates in results["w3"].items():
        now, before = rates["AsyncAtomaClient"], rates["AsyncAtomaClient (before)"]
        lines.append(f"| {key} | {now:,.0f} | {before:,.0f} | {now / before:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", required=True, help="the earlier commit to compare with")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="3 trials instead of 7")
    size.add_argument("--smoke", action="store_true", help="the test suite's sizes")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help="the report to update")
    args = parser.parse_args(argv)
    text = report(run(args.ref, "quick" if args.quick else "smoke" if args.smoke else "full"))
    print(text)
    write_section(args.output, f"{BEGIN}\n## Before and after a refactor\n\n{text}\n{END}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

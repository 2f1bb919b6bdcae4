"""The workloads and how each is timed.

Method, shared by every workload: all peers run against the same server in the same
process; each trial runs every peer once, in an order rotated from trial to trial, so slow
drift on a shared machine hits every peer alike; a peer's figure is the median over trials,
and its ratio to raw httpx is the median of the per-trial ratios (each taken between two
measurements made seconds apart). The client's CPU time (``time.process_time``: this
process only, so neither the server nor other processes on the machine are counted) is
the primary measure; wall time is reported next to it.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.embedding_peers import EmbedPeer, check_vectors
from benchmarks.embedding_peers import texts as embedding_texts
from benchmarks.peers import FLOOR, Peer
from benchmarks.sse_server import ServerProcess

__all__ = [
    "COLD_START_SUBJECTS",
    "IMPORT_SUBJECTS",
    "Config",
    "Sample",
    "count_connections",
    "embedding_throughput",
    "measure_imports",
    "per_request",
    "per_token",
    "time_to_first_token",
]


@dataclass(frozen=True)
class Config:
    """Sizes of one benchmark run."""

    trials: int
    """Trials per workload (medians are taken over them)."""
    request_tokens: int = 16
    """W1: tokens in a non-streamed response."""
    requests_per_trial: int = 50
    """W1: requests per peer per trial."""
    long_tokens: int = 512
    """W2: tokens in a long stream."""
    short_tokens: int = 8
    """W2: tokens in a short stream (the per-request part of a stream's cost)."""
    streams_per_trial: int = 6
    """W2: long streams per peer per trial (twice as many short ones)."""
    ttft_streams: int = 20
    """Time to first token: streams per peer per trial."""
    connection_streams: int = 5
    """New connections: streams per peer after the warm-up stream."""
    import_trials: int = 7
    """Import time: fresh interpreters per module."""
    import_subjects: tuple[str, ...] = ()
    """Import time: which subjects (names of :data:`IMPORT_SUBJECTS`); empty means all."""
    cold_start_subjects: tuple[str, ...] = ()
    """Cold start: which subjects (names of :data:`COLD_START_SUBJECTS`); empty means all."""
    embed_texts: int = 10_000
    """Embeddings: short texts embedded per peer per trial."""
    embed_trials: int | None = None
    """Embeddings: trials, if not ``trials``."""


@dataclass
class Sample:
    """One peer's figures in one workload: per-trial values and the ratio to the floor."""

    cpu: list[float] = field(default_factory=list)
    """Per-trial CPU seconds (per request, per token, ...)."""
    wall: list[float] = field(default_factory=list)
    """Per-trial wall seconds, same unit."""
    cpu_ratio: list[float] = field(default_factory=list)
    """Per-trial CPU ratio to raw httpx measured in the same trial."""
    wall_ratio: list[float] = field(default_factory=list)
    """Per-trial wall ratio to raw httpx measured in the same trial."""

    def summary(self) -> dict[str, float]:
        """Medians over trials."""
        return {
            "cpu": statistics.median(self.cpu),
            "wall": statistics.median(self.wall),
            "cpu_ratio": statistics.median(self.cpu_ratio),
            "wall_ratio": statistics.median(self.wall_ratio),
        }


def _rotated(peers: Sequence[Peer], trial: int) -> list[Peer]:
    k = trial % len(peers)
    return list(peers[k:]) + list(peers[:k])


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    gc.collect()  # garbage of the peer before must not be collected on this one's time
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu0, time.perf_counter() - wall0


def _interleaved(
    peers: Sequence[Peer], trials: int, measure: Callable[[Peer], tuple[float, float]]
) -> dict[str, dict[str, float]]:
    samples = {peer.name: Sample() for peer in peers}
    floor = next(peer.name for peer in peers if peer.kind == FLOOR)
    for trial in range(trials):
        got = {peer.name: measure(peer) for peer in _rotated(peers, trial)}
        _record(samples, got, floor)
    return {name: sample.summary() for name, sample in samples.items()}


def _record(samples: dict[str, Sample], got: dict[str, tuple[float, float]], floor: str) -> None:
    """Add one trial's (cpu, wall) per peer, and its ratios to the floor of the same trial."""
    base_cpu, base_wall = got[floor]
    for name, (cpu, wall) in got.items():
        sample = samples[name]
        sample.cpu.append(cpu)
        sample.wall.append(wall)
        sample.cpu_ratio.append(cpu / base_cpu)
        sample.wall_ratio.append(wall / base_wall)


def _check(text: str, peer: Peer, n: int) -> None:
    # A peer that silently returned nothing would look fast; refuse to time it.
    if len(text) < n:
        raise RuntimeError(f"{peer.name} returned {len(text)} characters for {n} tokens")


def per_request(peers: Sequence[Peer], config: Config) -> dict[str, dict[str, float]]:
    """W1: seconds per non-streamed request of ``request_tokens`` tokens."""
    n, reps = config.request_tokens, config.requests_per_trial

    def measure(peer: Peer) -> tuple[float, float]:
        for _ in range(3):
            _check(peer.complete(n), peer, n)

        def run() -> None:
            for _ in range(reps):
                peer.complete(n)

        cpu, wall = _timed(run)
        return cpu / reps, wall / reps

    return _interleaved(peers, config.trials, measure)


def per_token(peers: Sequence[Peer], config: Config) -> dict[str, dict[str, float]]:
    """W2: seconds per streamed token, net of the per-request part of a stream.

    Per peer and trial: the mean time of a ``long_tokens`` stream and of a ``short_tokens``
    stream; the per-token cost is the slope between them, so connection setup, request
    building and the first event's latency, which W1 and TTFT measure, do not dilute or
    inflate it.
    """
    long_n, short_n, reps = config.long_tokens, config.short_tokens, config.streams_per_trial

    def measure(peer: Peer) -> tuple[float, float]:
        _check(peer.stream(long_n), peer, long_n)
        _check(peer.stream(short_n), peer, short_n)

        def run_long() -> None:
            for _ in range(reps):
                peer.stream(long_n)

        def run_short() -> None:
            for _ in range(2 * reps):
                peer.stream(short_n)

        long_cpu, long_wall = _timed(run_long)
        short_cpu, short_wall = _timed(run_short)
        span = long_n - short_n
        return (
            (long_cpu / reps - short_cpu / (2 * reps)) / span,
            (long_wall / reps - short_wall / (2 * reps)) / span,
        )

    return _interleaved(peers, config.trials, measure)


def time_to_first_token(peers: Sequence[Peer], config: Config) -> dict[str, dict[str, float]]:
    """Wall seconds from the call to the first text piece (median of ``ttft_streams``).

    The CPU column is the CPU time spent over the same interval.
    """
    n, reps = config.short_tokens, config.ttft_streams

    def measure(peer: Peer) -> tuple[float, float]:
        for _ in range(2):
            _check(peer.stream(n), peer, n)
        gc.collect()
        walls: list[float] = []
        cpus: list[float] = []
        for _ in range(reps):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            pieces = peer.iter_text(n)
            next(pieces)
            walls.append(time.perf_counter() - wall0)
            cpus.append(time.process_time() - cpu0)
            for _ in pieces:
                pass
        return statistics.median(cpus), statistics.median(walls)

    return _interleaved(peers, config.trials, measure)


def embedding_throughput(peers: Sequence[EmbedPeer], config: Config) -> dict[str, dict[str, float]]:
    """Embeddings: seconds per text, embedding ``embed_texts`` short texts in one call.

    Each peer embeds the same texts with its library's default batching, interleaved and
    rotated like the other workloads; every result must equal the floor's vectors.
    """
    inputs = embedding_texts(config.embed_texts)
    floor = next(peer for peer in peers if peer.kind == FLOOR)
    reference = floor.embed(inputs)  # untimed: also warms every connection pool below

    def measure(peer: EmbedPeer) -> tuple[float, float]:
        result: list[list[float]] = []
        cpu, wall = _timed(lambda: result.extend(peer.embed(inputs)))
        check_vectors(peer, inputs, result, reference)
        return cpu / len(inputs), wall / len(inputs)

    return _interleaved(peers, config.embed_trials or config.trials, measure)  # type: ignore[arg-type]


def count_connections(
    server: ServerProcess, peers_by_wire: dict[str, Sequence[Peer]], config: Config
) -> dict[str, dict[str, float]]:
    """New TCP connections the server accepted per stream, after one warm-up stream.

    Measured per wire format: ``[DONE]``-terminated streams are where a client that stops
    reading at ``[DONE]`` loses its connection.
    """
    result: dict[str, dict[str, float]] = {}
    reps = config.connection_streams
    for wire, peers in peers_by_wire.items():
        for peer in peers:
            peer.stream(config.short_tokens)
            before = server.stats()["connections"]
            for _ in range(reps):
                peer.stream(config.short_tokens)
            after = server.stats()["connections"]
            result.setdefault(peer.name, {})[wire] = (after - before) / reps
    return result


# Import subjects: name -> statement timed in a fresh interpreter. The first is the
# baseline the package is compared with (it imports both, so it cannot be cheaper).
IMPORT_SUBJECTS: dict[str, str] = {
    "httpx + pydantic": "import httpx; from pydantic import BaseModel",
    # Not a target: what any pydantic user pays once per process on top of the baseline
    # (pydantic.fields, and the plugin scan that precedes the first validator built).
    "httpx + pydantic + one model": (
        "import httpx\nfrom pydantic import BaseModel, Field\n"
        "class M(BaseModel):\n    x: int = Field(default=0)"
    ),
    "atoma_integrations": "import atoma_integrations",
    # Not a target: the names load on first use, so this is what the first line of a
    # program using the client pays (the models, the client, httpx's pool).
    "atoma_integrations AtomaClient": "from atoma_integrations import AtomaClient",
    "openai": "import openai",
    "langchain_core BaseLLM": "from langchain_core.language_models.llms import BaseLLM",
    "atoma_integrations.langchain": "import atoma_integrations.langchain",
    "langchain_openai": "from langchain_openai import OpenAI",
    "llama_index CustomLLM": "from llama_index.core.llms import CustomLLM",
    "atoma_integrations.llama_index": "import atoma_integrations.llama_index",
    "llama_index OpenAILike": "from llama_index.llms.openai_like import OpenAILike",
}

# Cold start: import, build a client, one full completion and one stream, in a fresh
# interpreter; ``URL`` is the server's base URL. This is what a short-lived process
# (a CLI, a serverless function) pays before its first token.
COLD_START_SUBJECTS: dict[str, str] = {
    "httpx (floor)": (
        "import httpx, json\n"
        "h = httpx.Client()\n"
        "body = {'model': 'bench-model', 'prompt': 'hi', 'max_tokens': 16}\n"
        "h.post(URL + '/completions', json=body).json()['choices'][0]['text']\n"
        "with h.stream('POST', URL + '/completions', json={**body, 'stream': True}) as r:\n"
        "    [json.loads(l[6:]) for l in r.iter_lines() if l.startswith('data: {')]"
    ),
    "openai SDK": (
        "import openai\n"
        "c = openai.OpenAI(base_url=URL, api_key='x')\n"
        "c.completions.create(model='bench-model', prompt='hi', max_tokens=16)\n"
        "[x for x in c.completions.create(model='bench-model', prompt='hi', max_tokens=16,"
        " stream=True)]"
    ),
    "AtomaClient": (
        "from atoma_integrations import AtomaClient\n"
        "c = AtomaClient(base_url=URL)\n"
        "c.completions.create(model='bench-model', prompt='hi', max_tokens=16)\n"
        "with c.completions.create_stream(model='bench-model', prompt='hi', max_tokens=16) as s:\n"
        "    [x for x in s]"
    ),
}

_IMPORT_PROBE = r"""
import json, os, sys, time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
URL = sys.argv[2]
r0 = rss(); c0 = time.process_time(); t0 = time.perf_counter()
exec(sys.argv[1])
t1 = time.perf_counter(); c1 = time.process_time(); r1 = rss()
print(json.dumps({"cpu": c1 - c0, "wall": t1 - t0, "rss": r1 - r0}))
"""


def _import_once(statement: str, url: str, pycache: str) -> dict[str, float]:
    # Bytecode is cached (in a private directory, so the repository is not touched) as it
    # is for an installed wheel: without it, a package on an editable install or under
    # PYTHONDONTWRITEBYTECODE would be compiled from source on every import and look slow
    # next to site-packages that pip compiled. The working directory keeps the repository
    # off sys.path, so modules are found where users find them.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, statement, url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=pycache,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["failed"])[-1]
        raise RuntimeError(last)
    result: dict[str, float] = json.loads(completed.stdout)
    return result


def measure_imports(
    config: Config, subjects: dict[str, str], url: str = ""
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """CPU time, wall time and RSS growth per subject, minimum over fresh interpreters.

    One untimed run per subject first fills the bytecode cache; then subjects are
    interleaved trial by trial. Returns the figures and, for subjects that could not be
    run, why.
    """
    names = list(subjects)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
        for trial in range(config.import_trials + 1):
            k = trial % len(names)
            for name in names[k:] + names[:k]:
                if name in failed:
                    continue
                try:
                    got = _import_once(subjects[name], url, pycache)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    failed[name] = str(exc)
                    continue
                if trial > 0:
                    samples[name].append(got)
    figures = {
        name: {
            # The minimum: a fresh interpreter's import is a fixed amount of work, and the
            # only thing that makes one run slower than another is other load on the machine.
            key: min(s[key] for s in samples[name])
            for key in ("cpu", "wall", "rss")
        }
        for name in names
        if name not in failed
    }
    return figures, failed


def describe_config(config: Config) -> dict[str, Any]:
    """The run's sizes, for the report."""
    skip = ("import_subjects", "cold_start_subjects")
    return {k: v for k, v in config.__dict__.items() if k not in skip and v is not None}

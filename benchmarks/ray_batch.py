"""Rows per second for batch completion: one process ``abatch`` versus Ray Data actors.

``python benchmarks/ray_batch.py [--rows N] [--quick] [--no-write]``

Against the canned benchmark server (:mod:`benchmarks.sse_server`, its own process, no
model), so a row costs only what the client, the adapter and Ray spend on it: the figures
say how fast rows can move, not how fast a model answers. Measured side by side in one run:

- one process: ``AtomaLLM.abatch`` (max_concurrency 8 and 64) and, as the floor,
  ``AsyncAtomaClient`` with the same bound (``gather_bounded``);
- Ray Data: ``map_column(CompleteColumn, source=AtomaLLM)`` with 1 and 2 actors at 8 and
  64 requests in flight per actor, and the client source with 2 actors at 64.

Each Ray job's wall time includes starting its actors; a one-row job of the same shape
measures that fixed cost, reported beside it. The machine's CPU use (all cores, every
process: driver, actors, Ray's own daemons and the server) says when the machine, not the
package, is the limit. The report replaces its own section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# A single-machine cluster on the loopback address (read when ray is imported).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import psutil
import ray
import ray.data

from atoma_integrations import AsyncAtomaClient
from atoma_integrations._concurrency import gather_bounded
from atoma_integrations.langchain import AtomaLLM
from atoma_integrations.ray import CompleteColumn, map_column
from benchmarks import report
from benchmarks.report import machine_info, section_markers
from benchmarks.sse_server import MODEL_ID, ServerProcess

RESULTS_PATH = report.RESULTS_PATH
BEGIN, END = section_markers("ray_batch.py")
MAX_TOKENS = 16
BATCH_SIZE = 100


@dataclass
class Run:
    """One measured configuration."""

    name: str
    """What ran."""
    rows: int
    """Rows completed."""
    seconds: float
    """Wall time, actor start included for Ray."""
    cpu_cores: float
    """Average busy cores of the whole machine during the run (other users included)."""
    cpu_seconds: float = 0.0
    """CPU time of this process tree: driver, Ray's daemons and workers, the server."""
    fixed: float = 0.0
    """Wall time of the same job on one row (actor start, scheduling)."""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


class TreeCPU:
    """CPU seconds spent by this process and all its descendants between start and stop.

    Ray's actors exit when their job ends, and an exited process's CPU time cannot be read,
    so the tree is sampled every 50 ms and each process counts with its last sample.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[int, float], float] = {}
        self._base: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> dict[tuple[int, float], float]:
        root = psutil.Process()
        found = {}
        for process in [root, *root.children(recursive=True)]:
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    found[(process.pid, process.create_time())] = times.user + times.system
            except psutil.Error:
                continue
        return found

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            self._seen.update(self._sample())

    def __enter__(self) -> TreeCPU:
        self._base = self._sample()
        self._seen = dict(self._base)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._seen.update(self._sample())

    @property
    def seconds(self) -> float:
        return sum(value - self._base.get(key, 0.0) for key, value in self._seen.items())


def _measure(name: str, rows: int, work: Callable[[], int]) -> Run:
    psutil.cpu_percent(percpu=False)  # starts the machine-wide CPU window
    with TreeCPU() as cpu:
        started = time.perf_counter()
        done = work()
        seconds = time.perf_counter() - started
    busy = psutil.cpu_percent(percpu=False) / 100 * (psutil.cpu_count() or 1)
    assert done == rows, f"{name}: {done} rows came back for {rows}"
    print(
        f"  {name}: {rows / seconds:,.0f} rows/s ({seconds:.2f}s; our CPU {cpu.seconds:.2f}s; "
        f"machine {busy:.2f} cores busy)",
        file=sys.stderr,
    )
    return Run(name, rows, seconds, busy, cpu.seconds)


def _prompts(rows: int) -> list[str]:
    return [f"prompt {i}" for i in range(rows)]


def _llm(base_url: str, limit: int) -> AtomaLLM:
    return AtomaLLM(model=MODEL_ID, base_url=base_url, max_tokens=MAX_TOKENS, max_concurrency=limit)


def one_process_abatch(base_url: str, rows: int, limit: int) -> int:
    llm = _llm(base_url, limit)
    texts = asyncio.run(llm.abatch(_prompts(rows), config={"max_concurrency": limit}))
    return len(texts)


def one_process_client(base_url: str, rows: int, limit: int) -> int:
    async def run() -> int:
        async with AsyncAtomaClient(base_url=base_url, max_retries=0) as client:
            tasks = [
                lambda p=p: client.completions.create(
                    model=MODEL_ID, prompt=p, max_tokens=MAX_TOKENS
                )
                for p in _prompts(rows)
            ]
            return len(await gather_bounded(tasks, limit))

    return asyncio.run(run())


def on_ray(source: object, rows: int, actors: int, in_flight: int, **params: Any) -> int:
    ds = ray.data.from_items([{"prompt": p} for p in _prompts(rows)])
    out = map_column(
        ds,
        CompleteColumn,
        source=source,
        actors=actors,
        max_in_flight=in_flight,
        batch_size=BATCH_SIZE,
        usage_columns=False,
        **params,
    )
    return sum(len(batch["completion"]) for batch in out.iter_batches(batch_size=None))


def measure_all(base_url: str, rows: int) -> list[Run]:
    runs = []
    for limit in (8, 64):
        runs.append(
            _measure(
                f"one process, AtomaLLM.abatch, {limit} in flight",
                rows,
                lambda limit=limit: one_process_abatch(base_url, rows, limit),
            )
        )
    runs.append(
        _measure(
            "one process, AsyncAtomaClient, 64 in flight (floor)",
            rows,
            lambda: one_process_client(base_url, rows, 64),
        )
    )
    on_ray(_llm(base_url, 8), 1, 1, 8)  # warm-up: Ray starts its worker processes once
    llm = _llm(base_url, 8)
    for actors in (1, 2):
        for in_flight in (8, 64):
            name = f"Ray, AtomaLLM, {actors} actor(s) x {in_flight} in flight"
            fixed = _measure(
                f"{name}, 1 row", 1, lambda a=actors, f=in_flight: on_ray(llm, 1, a, f)
            )
            run = _measure(name, rows, lambda a=actors, f=in_flight: on_ray(llm, rows, a, f))
            run.fixed = fixed.seconds
            runs.append(run)
    client = AsyncAtomaClient(base_url=base_url, max_retries=0)
    name = "Ray, AsyncAtomaClient, 2 actor(s) x 64 in flight"
    fixed = _measure(
        f"{name}, 1 row", 1, lambda: on_ray(client, 1, 2, 64, model=MODEL_ID, max_tokens=MAX_TOKENS)
    )
    run = _measure(
        name, rows, lambda: on_ray(client, rows, 2, 64, model=MODEL_ID, max_tokens=MAX_TOKENS)
    )
    run.fixed = fixed.seconds
    runs.append(run)
    return runs


def render(runs: list[Run], info: dict[str, Any], load: float) -> str:
    base = runs[0].rows_per_second
    lines = [
        BEGIN,
        "## Ray Data batch completion (benchmarks/ray_batch.py)",
        "",
        f"{runs[0].rows:,} non-streamed completions of {MAX_TOKENS} tokens from the canned server; "
        f"{info['cores']} cores ({info['cpu']}), Ray {ray.__version__}, batches of "
        f"{BATCH_SIZE} rows, one run, machine load average {load:.1f} at the start. "
        "Ray's wall time includes starting the job's actors; "
        '"1-row job" is that fixed cost alone. "our CPU" is the CPU time of the '
        "benchmark's process tree (driver, Ray's daemons and actors, the server) per row; "
        '"machine cores busy" counts every process on the machine, other users\' included.',
        "",
        "| configuration | rows/s | x abatch (8) | wall s | 1-row job s "
        "| our CPU ms/row | machine cores busy |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        fixed = f"{run.fixed:.2f}" if run.fixed else ""
        lines.append(
            f"| {run.name} | {run.rows_per_second:,.0f} | {run.rows_per_second / base:.2f}x | "
            f"{run.seconds:.2f} | {fixed} | {1000 * run.cpu_seconds / run.rows:.2f} "
            f"| {run.cpu_cores:.2f} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def write_section(section: str) -> None:
    report.write_section(RESULTS_PATH, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    args = parser.parse_args()

    logging.getLogger("ray").setLevel(logging.WARNING)
    load = os.getloadavg()[0]
    with ServerProcess() as server:
        base_url = server.base_url("openai")
        print(f"[ray_batch] {args.rows} rows per configuration against {base_url}", file=sys.stderr)
        ray.init(include_dashboard=False, logging_level="WARNING", log_to_driver=False)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        ray.data.DataContext.get_current().enable_progress_bars = False
        try:
            runs = measure_all(base_url, args.rows)
        finally:
            ray.shutdown()
    section = render(runs, machine_info(), load)
    print(section)
    if not args.no_write:
        write_section(section)
        print(f"[ray_batch] wrote its section of {RESULTS_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

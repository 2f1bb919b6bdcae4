"""Batch inference on Ray Data: complete, chat and embed a column with many requests in flight.

Runs against the Atoma cloud when ATOMA_API_KEY is set; otherwise against the local
llama.cpp server, which it starts (scripts/local_server/start_server.sh, SmolLM2-135M; the
first run on a machine compiles the server, about 5 minutes) and stops at the end. Models
come from ATOMA_MODEL (and ATOMA_CHAT_MODEL / ATOMA_EMBED_MODEL) when set; ATOMA_BASE_URL
points it at another OpenAI-compatible server.

    python examples/ray_batch.py                  # 60 prompts, 2 actors, 8 in flight each
    python examples/ray_batch.py --rows 1000 --actors 1 --max-in-flight 32

It shows the two ways of docs/scale_out.md: the by-hand recipe (a callable class that
calls LangChain's ``abatch``) and the helper (``map_column`` with ``CompleteColumn``,
``ChatColumn`` and ``EmbedColumn``, which add usage columns and here record failed rows in
an error column instead of failing the job).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# A single-machine Ray on the loopback address only (read when ray is imported); on a
# real cluster leave it unset.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import numpy as np
import ray
import ray.data

from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.ray import (
    USAGE_COLUMNS,
    ChatColumn,
    CompleteColumn,
    EmbedColumn,
    map_column,
)

ROOT = Path(__file__).resolve().parent.parent
ATOMA_MODEL = "meta-llama/Llama-3.3-70B-Instruct"
ATOMA_EMBED_MODEL = "intfloat/multilingual-e5-large-instruct"
TOPICS = ("the sea", "a mountain", "the city at night", "a forest", "the desert", "rain")


@contextmanager
def server() -> Iterator[dict[str, str]]:
    """Where to send requests, and the models it serves: the Atoma cloud, ATOMA_BASE_URL,
    or a local server started here (its ids unless ATOMA_*MODEL say otherwise)."""
    if os.environ.get("ATOMA_API_KEY") or os.environ.get("ATOMA_BASE_URL"):
        yield {
            "base_url": os.environ.get("ATOMA_BASE_URL", "the Atoma cloud"),
            "model": os.environ.get("ATOMA_MODEL", ATOMA_MODEL),
            "chat": os.environ.get("ATOMA_CHAT_MODEL", ATOMA_MODEL),
            "embed": os.environ.get("ATOMA_EMBED_MODEL", ATOMA_EMBED_MODEL),
        }
        return
    env = {
        **os.environ,
        "TS_MODEL": os.environ.get("TS_MODEL", "smollm2"),
        "TS_PORT": os.environ.get("ATOMA_EXAMPLE_PORT", "8767"),
    }
    print("[ray_batch] no ATOMA_API_KEY: starting a local llama.cpp server", file=sys.stderr)
    bash = shutil.which("bash") or "/bin/bash"
    started = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [bash, str(ROOT / "scripts/local_server/start_server.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = dict(line.split("=", 1) for line in started.stdout.split() if "=" in line)
    os.environ["ATOMA_BASE_URL"] = found["TS_BASE_URL"]
    try:
        yield {
            "base_url": found["TS_BASE_URL"],
            "model": os.environ.get("ATOMA_MODEL", found["TS_MODEL_ID"]),
            "chat": os.environ.get("ATOMA_CHAT_MODEL", found["TS_CHAT_MODEL_ID"]),
            "embed": os.environ.get("ATOMA_EMBED_MODEL", found["TS_EMBED_MODEL_ID"]),
        }
    finally:
        if found.get("TS_STARTED") == "1":
            subprocess.run(  # noqa: S603 - our own script, fixed arguments
                [bash, str(ROOT / "scripts/local_server/stop_server.sh")],
                env=env,
                capture_output=True,
                check=False,
            )


class CompleteWithLangChain:
    """The by-hand recipe: a callable class for an actor pool around ``llm.abatch``."""

    def __init__(self, llm: AtomaLLM) -> None:
        self.llm = llm  # unpickled in the actor: an environment key is read there

    async def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        texts = await self.llm.abatch([str(p) for p in batch["prompt"]])
        return {**batch, "completion": np.array(texts, dtype=object)}


def _report(what: str, rows: list[dict[str, Any]], seconds: float, usage: tuple[str, ...]) -> None:
    failed = [r for r in rows if r.get("error") is not None]
    tokens = {name: sum(int(r[name] or 0) for r in rows) for name in usage}
    print(
        f"{what}: {len(rows)} rows in {seconds:.1f}s ({len(rows) / seconds:.1f} rows/s), "
        f"{len(failed)} failed, usage {tokens}"
    )
    for row in failed[:3]:
        print(f"  failed row {row['id']}: {row['error']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--max-in-flight", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()

    with server() as where:
        print(
            f"{args.rows} rows at {where['base_url']} on Ray Data: {args.actors} actor(s) x "
            f"{args.max_in_flight} requests in flight"
        )
        print(
            f"models: {where['model']} (completions), {where['chat']} (chat), "
            f"{where['embed']} (embeddings)\n"
        )
        # Workers of a cluster started here inherit this environment (ATOMA_API_KEY and
        # ATOMA_BASE_URL included); on a remote cluster set them on the nodes.
        ray.init(include_dashboard=False, logging_level="WARNING", log_to_driver=False)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        ray.data.DataContext.get_current().enable_progress_bars = False
        try:
            run(args, where)
        finally:
            ray.shutdown()
    return 0


def run(args: argparse.Namespace, where: dict[str, str]) -> None:
    """The by-hand recipe, then the helper for completions, chat and embeddings."""
    common = {"actors": args.actors, "max_in_flight": args.max_in_flight, "batch_size": 32}
    llm = AtomaLLM(
        model=where["model"],
        max_tokens=args.max_tokens,
        temperature=0,
        max_concurrency=args.max_in_flight,
    )
    prompts = [f"Write one line about {TOPICS[i % len(TOPICS)]} (#{i}):" for i in range(args.rows)]
    ds = ray.data.from_items([{"id": i, "prompt": p} for i, p in enumerate(prompts)])

    started = time.perf_counter()
    by_hand = ds.map_batches(
        CompleteWithLangChain,
        fn_constructor_args=(llm,),
        compute=ray.data.ActorPoolStrategy(size=args.actors),
        num_cpus=0.25,  # I/O-bound actors: more of them than cores still all start
        batch_size=32,
    ).take_all()
    print(
        f"completions by hand (abatch in a callable class): {len(by_hand)} rows in "
        f"{time.perf_counter() - started:.1f}s"
    )

    started = time.perf_counter()
    rows = map_column(ds, CompleteColumn, source=llm, on_error="column", **common).take_all()
    _report(
        "completions (CompleteColumn)",
        rows,
        time.perf_counter() - started,
        tuple(f"completion_{name}" for name in USAGE_COLUMNS),
    )
    for row in sorted(rows, key=lambda r: int(r["id"]))[:2]:
        print(f"  {row['prompt']!r} -> {str(row['completion']).strip()!r}")

    chat = ChatAtoma(model=where["chat"], max_tokens=args.max_tokens, temperature=0)
    started = time.perf_counter()
    rows = map_column(
        ds,
        ChatColumn,
        source=chat,
        input_column="prompt",
        on_error="column",
        system_prompt="You are a poet. Answer in one line.",
        **common,
    ).take_all()
    _report(
        "chat (ChatColumn)",
        rows,
        time.perf_counter() - started,
        tuple(f"response_{name}" for name in USAGE_COLUMNS),
    )
    for row in sorted(rows, key=lambda r: int(r["id"]))[:2]:
        print(f"  {row['prompt']!r} -> {str(row['response']).strip()!r}")

    embeddings = AtomaEmbeddings(model=where["embed"])
    started = time.perf_counter()
    rows = map_column(
        ds,
        EmbedColumn,
        source=embeddings,
        input_column="prompt",
        inputs_per_request=16,
        on_error="column",
        **common,
    ).take_all()
    _report("embeddings (EmbedColumn)", rows, time.perf_counter() - started, ())
    first = sorted(rows, key=lambda r: int(r["id"]))[0]["embedding"]
    head = [round(float(x), 3) for x in first[:3]]
    print(f"  each row has a {len(first)}-dimensional float32 vector: {head} ...")


if __name__ == "__main__":
    sys.exit(main())

"""Bounded fan-out for multi-input calls (``batch``, many prompts, many embedding batches).

Framework-free, so every adapter runs its many requests the same way: at most ``limit`` in
flight, results in input order, the first error wins and stops what has not started.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["gather_bounded", "run_bounded"]

_T = TypeVar("_T")


def run_bounded(tasks: Sequence[Callable[[], _T]], limit: int) -> list[_T]:
    """Run ``tasks`` on at most ``limit`` threads; results in order; first error wins."""
    if len(tasks) <= 1 or limit == 1:
        return [task() for task in tasks]
    pool = ThreadPoolExecutor(max_workers=min(limit, len(tasks)), thread_name_prefix="atoma")
    try:
        # Each task gets a copy of the caller's context (LangChain keeps tracing state there).
        futures: list[Future[_T]] = [
            pool.submit(contextvars.copy_context().run, task) for task in tasks
        ]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            error = future.exception()
            if error is not None:
                raise error
        return [future.result() for future in futures]
    finally:
        # On error, prompts not started yet are dropped; running ones end on their own.
        pool.shutdown(wait=False, cancel_futures=True)


async def gather_bounded(tasks: Sequence[Callable[[], Any]], limit: int) -> list[Any]:
    """Await ``tasks`` with at most ``limit`` in flight; results in order; on the first
    error the rest are cancelled (which closes their connections)."""
    if len(tasks) <= 1:
        return [await task() for task in tasks]
    semaphore = asyncio.Semaphore(limit)

    async def bounded(task: Callable[[], Any]) -> Any:
        async with semaphore:
            return await task()

    running = [asyncio.ensure_future(bounded(task)) for task in tasks]
    try:
        return list(await asyncio.gather(*running))
    except BaseException:
        for future in running:
            future.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise

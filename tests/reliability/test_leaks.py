"""No leaks: a thousand streams abandoned at random points leave nothing open behind them.

Each stream is left in one of the ways real code leaves streams (read to the end, break,
an exception in the loop, ``close()``, dropping the last reference, never reading it, and
for async also cancelling its task), at a random chunk, from a seeded RNG so a failure
replays. Afterwards the process has the same file descriptors, sockets to the server and
threads as before (and, async, no stray tasks): compared after the client is closed, and
bounded by the pool's keep-alive size while it is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import threading
from collections.abc import Callable
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
from llama_index.core.llms import ChatMessage

from atoma_integrations import AsyncAtomaClient, AtomaClient, AtomaError, _registry
from atoma_integrations.langchain import AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat
from tests.support.fault_server import (
    Drop,
    FaultServer,
    Pause,
    Stream,
    Write,
    async_wait_until,
    chunk,
    sse,
    usage,
    use_chat_shape,
    wait_until,
)

from ._runs import CHAT_PARAMS, MODES, PARAMS, is_chat

STREAMS = 1000
SEED = 20261125
TOKENS = 12
# The client's pool keeps at most this many idle connections (httpx.Limits in _client).
MAX_KEEPALIVE = 64

SYNC_WAYS = ("exhaust", "break", "raise", "close", "drop", "never-read", "never-read-drop")
ASYNC_WAYS = (*SYNC_WAYS, "cancel")


class Abandon(Exception):
    """Raised by a caller's loop body to leave the stream."""


def _stream_with_a_pause() -> Stream:
    """TOKENS events and the end; the pause makes some streams be left mid-network-read."""
    steps: list[Write | Pause] = [Write(sse(chunk(f"t{i} "))) for i in range(TOKENS // 2)]
    steps.append(Pause(0.001))
    steps += [Write(sse(chunk(f"t{i} "))) for i in range(TOKENS // 2, TOKENS)]
    steps += [
        Write(sse(chunk("", finish_reason="length"))),
        Write(sse(chunk(usage=usage(3, TOKENS), choices=False))),
    ]
    return Stream(steps)


def _client_sockets(port: int) -> int:
    """TCP sockets of this process connected to the fault server (the client's side)."""
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status != psutil.CONN_TIME_WAIT
    )


def _snapshot() -> tuple[int, int]:
    gc.collect()
    process = psutil.Process()
    return process.num_fds(), threading.active_count()


def _assert_nothing_left_open(fds_before: int, threads_before: int) -> None:
    """No more descriptors or threads than before the streams.

    Fewer is not a leak: other tests' garbage (a notebook kernel's zmq sockets, say) may be
    released while these streams run, and equality then fails for nothing.
    """
    fds_after, threads_after = _snapshot()
    assert fds_after <= fds_before, f"{fds_after - fds_before} descriptors left open"
    assert threads_after <= threads_before, f"{threads_after - threads_before} threads left"


def _settled(server: FaultServer, port: int) -> Callable[[], bool]:
    return lambda: server.active_connections == 0 and _client_sockets(port) == 0


def _endpoint(client: Any, mode: str) -> tuple[Any, dict[str, Any]]:
    """The resource a ``mode`` streams from, and a valid call for it."""
    if is_chat(mode):
        return client.chat.completions, CHAT_PARAMS
    return client.completions, PARAMS


@pytest.mark.parametrize("mode", ["sync", "sync-chat"])
def test_1000_sync_streams_abandoned_at_random_leave_nothing_open(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(_stream_with_a_pause())
    rng = random.Random(SEED)
    fds_before, threads_before = _snapshot()
    ways_seen: set[str] = set()

    with AtomaClient(base_url=fault_server.url, max_retries=0) as client:
        resource, params = _endpoint(client, mode)
        for n in range(STREAMS):
            way = rng.choice(SYNC_WAYS)
            at = rng.randint(0, TOKENS + 1)
            ways_seen.add(way)
            if way == "never-read-drop":
                resource.create_stream(**params)
            elif way == "never-read":
                with resource.create_stream(**params):
                    pass
            elif way in ("drop", "close"):
                stream = resource.create_stream(**params)
                for i, _ in enumerate(stream):
                    if i == at:
                        break
                if way == "close":
                    stream.close()
                del stream
            else:
                with (
                    contextlib.suppress(Abandon),
                    resource.create_stream(**params) as stream,
                ):
                    for i, _ in enumerate(stream):
                        if i == at and way != "exhaust":
                            if way == "raise":
                                raise Abandon
                            break
            if n % 100 == 99:
                # While the client is open, idle pooled connections are all it may keep.
                assert _client_sockets(fault_server.port) <= MAX_KEEPALIVE

    assert ways_seen == set(SYNC_WAYS)
    assert len(fault_server.requests) == STREAMS
    assert wait_until(_settled(fault_server, fault_server.port), 5)
    _assert_nothing_left_open(fds_before, threads_before)


@pytest.mark.parametrize("mode", ["async", "async-chat"])
async def test_1000_async_streams_abandoned_at_random_leave_nothing_open(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(_stream_with_a_pause())
    rng = random.Random(SEED + 1)
    fds_before, threads_before = _snapshot()
    tasks_before = asyncio.all_tasks()
    ways_seen: set[str] = set()

    async with AsyncAtomaClient(base_url=fault_server.url, max_retries=0) as client:
        resource, params = _endpoint(client, mode)

        async def one(way: str, at: int) -> None:
            if way == "never-read-drop":
                resource.create_stream(**params)  # never opened: sends nothing
                await resource.create_stream(**params)  # opened, dropped
            elif way == "never-read":
                async with resource.create_stream(**params):
                    pass
            elif way in ("drop", "close"):
                stream = await resource.create_stream(**params)
                i = 0
                async for _ in stream:
                    if i == at:
                        break
                    i += 1
                if way == "close":
                    await stream.aclose()
                del stream
            elif way == "cancel":
                reached = asyncio.Event()

                async def consume() -> None:
                    async with resource.create_stream(**params) as s:
                        i = 0
                        async for _ in s:
                            if i == at:
                                reached.set()
                                await asyncio.sleep(10)  # parked until cancelled
                            i += 1
                        reached.set()

                task = asyncio.create_task(consume())
                await reached.wait()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            else:
                with contextlib.suppress(Abandon):
                    async with resource.create_stream(**params) as s:
                        i = 0
                        async for _ in s:
                            if i == at and way != "exhaust":
                                if way == "raise":
                                    raise Abandon
                                break
                            i += 1

        for n in range(STREAMS):
            way = rng.choice(ASYNC_WAYS)
            ways_seen.add(way)
            await one(way, rng.randint(0, TOKENS + 1))
            if n % 100 == 99:
                assert _client_sockets(fault_server.port) <= MAX_KEEPALIVE

    # Let the loop run what dropped streams handed to it (closing their responses).
    assert await async_wait_until(lambda: asyncio.all_tasks() <= tasks_before | {_current()})
    assert ways_seen == set(ASYNC_WAYS)
    assert await async_wait_until(_settled(fault_server, fault_server.port), 5)
    _assert_nothing_left_open(fds_before, threads_before)


def _current() -> asyncio.Task[object]:
    task = asyncio.current_task()
    assert task is not None
    return task


@pytest.mark.parametrize("mode", MODES)
async def test_streams_cut_by_the_server_leave_nothing_open(
    fault_server: FaultServer, mode: str
) -> None:
    # The other side of the coin: the server drops every stream mid-way.
    fault_server.always(Stream([Write(sse(chunk("partial"))), Pause(0.001), Drop(reset=True)]))
    fds_before, threads_before = _snapshot()
    errors = 0
    if mode.startswith("sync"):
        with AtomaClient(base_url=fault_server.url, max_retries=0) as client:
            resource, params = _endpoint(client, mode)
            for _ in range(100):
                try:
                    with resource.create_stream(**params) as stream:
                        for _ in stream:
                            pass
                except AtomaError:
                    errors += 1
    else:
        async with AsyncAtomaClient(base_url=fault_server.url, max_retries=0) as aclient:
            aresource, params = _endpoint(aclient, mode)
            for _ in range(100):
                try:
                    async with aresource.create_stream(**params) as astream:
                        async for _ in astream:
                            pass
                except AtomaError:
                    errors += 1
    assert errors == 100
    assert await async_wait_until(_settled(fault_server, fault_server.port), 5)
    _assert_nothing_left_open(fds_before, threads_before)


ADAPTER_STREAMS = 250


@pytest.mark.parametrize(
    "adapter", ["langchain", "langchain_chat", "llama_index", "llama_index_chat"]
)
async def test_adapter_streams_abandoned_at_random_leave_only_the_shared_pool(
    fault_server: FaultServer, adapter: str
) -> None:
    use_chat_shape(adapter.endswith("_chat"))
    # Adapters share one process-wide client per settings (and one async client per event
    # loop), which stays open by design: what may remain is its idle keep-alive pool.
    fault_server.always(_stream_with_a_pause())
    rng = random.Random(SEED + 2)
    fds_before, threads_before = _snapshot()
    tasks_before = asyncio.all_tasks()
    common: dict[str, Any] = {"model": "fault-model", "base_url": fault_server.url}
    llm: Any = (
        AtomaLLM(**common)
        if adapter == "langchain"
        else ChatAtoma(**common)
        if adapter == "langchain_chat"
        else Atoma(context_window=64, **common)
        if adapter == "llama_index"
        else AtomaChat(context_window=64, **common)
    )
    langchain = adapter.startswith("langchain")
    hi = [ChatMessage(role="user", content="hi")]

    for _ in range(ADAPTER_STREAMS):
        at = rng.randint(0, TOKENS + 1)
        if rng.random() < 0.5:
            sync_stream = (
                llm.stream("hi")
                if langchain
                else llm.stream_complete("hi")
                if adapter == "llama_index"
                else llm.stream_chat(hi)
            )
            for i, _ in enumerate(sync_stream):
                if i == at:
                    break
            del sync_stream
        else:
            agen = (
                llm.astream("hi")
                if langchain
                else await llm.astream_complete("hi")
                if adapter == "llama_index"
                else await llm.astream_chat(hi)
            )
            i = 0
            async for _ in agen:
                if i == at:
                    break
                i += 1
            del agen
    # A dropped async generator is closed by a task the loop runs later: let those run.
    assert await async_wait_until(lambda: asyncio.all_tasks() <= tasks_before | {_current()})
    assert threading.active_count() == threads_before

    # What is left may only be the shared clients' idle keep-alive connections. How many
    # depends on timing, not on a leak: a stream dropped after its whole body arrived goes
    # back to the pool when the loop gets round to closing it, which may be after the next
    # stream opened a connection of its own. So the proof is to close the shared clients:
    # then nothing of the 250 streams may be left.
    await _registry.aclose_all()
    assert await async_wait_until(_settled(fault_server, fault_server.port), 5), (
        f"{_client_sockets(fault_server.port)} client sockets and "
        f"{fault_server.active_connections} server connections left"
    )
    _assert_nothing_left_open(fds_before, threads_before)
    assert len(fault_server.completions_requests()) == ADAPTER_STREAMS

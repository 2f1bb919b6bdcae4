"""Leaving a stream early closes its connection, so the server stops generating (and billing).

The server streams tokens forever (``endless_stream``) and records when the client hangs
up. Every way a caller can stop reading (break, an exception in the loop, ``close()``,
cancelling the task, a timeout around it, or just dropping the stream) must make the
server see the disconnect within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient
from tests.support.fault_server import (
    FaultServer,
    async_wait_until,
    completion_stream,
    endless_stream,
    wait_until,
)

from ._runs import PARAMS

HANG_UP_WITHIN = 1.0


class Boom(Exception):
    """An error in the caller's own loop body."""


@pytest.fixture
def endless(fault_server: FaultServer) -> FaultServer:
    """The fault server, streaming a token every 10 ms until the client hangs up."""
    fault_server.always(endless_stream(interval=0.01))
    return fault_server


def _assert_hung_up_after(server: FaultServer, left_at: float) -> None:
    assert wait_until(lambda: bool(server.requests) and server.requests[-1].ended is not None)
    record = server.requests[-1]
    assert record.disconnected, "the server finished instead of seeing the client hang up"
    assert record.ended is not None and record.ended - left_at < HANG_UP_WITHIN


async def _async_assert_hung_up_after(server: FaultServer, left_at: float) -> None:
    assert await async_wait_until(
        lambda: bool(server.requests) and server.requests[-1].ended is not None
    )
    record = server.requests[-1]
    assert record.disconnected, "the server finished instead of seeing the client hang up"
    assert record.ended is not None and record.ended - left_at < HANG_UP_WITHIN


# --- Sync ------------------------------------------------------------------------------


def test_break_inside_with_block(endless: FaultServer) -> None:
    with AtomaClient(base_url=endless.url, max_retries=0) as client:
        with client.completions.create_stream(**PARAMS) as stream:
            for i, _ in enumerate(stream):
                if i == 3:
                    break
        left_at = time.monotonic()
        _assert_hung_up_after(endless, left_at)


def test_break_without_with_block_then_drop_the_stream(endless: FaultServer) -> None:
    with AtomaClient(base_url=endless.url, max_retries=0) as client:
        stream = client.completions.create_stream(**PARAMS)
        for i, _ in enumerate(stream):
            if i == 3:
                break
        del stream  # the last reference: no close(), no with block
        left_at = time.monotonic()
        _assert_hung_up_after(endless, left_at)


def test_exception_inside_the_loop(endless: FaultServer) -> None:
    with AtomaClient(base_url=endless.url, max_retries=0) as client:
        with pytest.raises(Boom), client.completions.create_stream(**PARAMS) as stream:
            for i, _ in enumerate(stream):
                if i == 2:
                    raise Boom
        left_at = time.monotonic()
        _assert_hung_up_after(endless, left_at)


def test_exception_inside_the_loop_without_with_block(endless: FaultServer) -> None:
    with AtomaClient(base_url=endless.url, max_retries=0) as client:

        def consume() -> None:
            stream = client.completions.create_stream(**PARAMS)
            for i, _ in enumerate(stream):
                if i == 2:
                    raise Boom

        with pytest.raises(Boom):
            consume()
        left_at = time.monotonic()
        _assert_hung_up_after(endless, left_at)


def test_explicit_close(endless: FaultServer) -> None:
    with AtomaClient(base_url=endless.url, max_retries=0) as client:
        stream = client.completions.create_stream(**PARAMS)
        next(iter(stream))
        stream.close()
        left_at = time.monotonic()
        _assert_hung_up_after(endless, left_at)
        with pytest.raises(StopIteration):
            next(iter(stream))  # a closed stream yields nothing more


def test_islice_of_the_stream_then_drop(endless: FaultServer) -> None:
    with AtomaClient(base_url=endless.url, max_retries=0) as client:
        first = [
            c.choices[0].text
            for c in itertools.islice(client.completions.create_stream(**PARAMS), 5)
        ]
        left_at = time.monotonic()
        assert len(first) == 5
        _assert_hung_up_after(endless, left_at)


def test_stream_never_iterated_then_dropped(endless: FaultServer) -> None:
    with AtomaClient(base_url=endless.url, max_retries=0) as client:
        client.completions.create_stream(**PARAMS)  # result ignored
        left_at = time.monotonic()
        _assert_hung_up_after(endless, left_at)


def test_the_same_client_keeps_working_after_an_early_exit(endless: FaultServer) -> None:
    with AtomaClient(base_url=endless.url, max_retries=0) as client:
        for _ in range(3):
            with client.completions.create_stream(**PARAMS) as stream:
                assert next(iter(stream)).choices[0].text == "tok "
    assert len(endless.requests) == 3
    assert wait_until(lambda: all(r.disconnected for r in endless.requests))


# --- Async -----------------------------------------------------------------------------


async def test_async_break_inside_with_block(endless: FaultServer) -> None:
    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:
        async with client.completions.create_stream(**PARAMS) as stream:
            i = 0
            async for _ in stream:
                i += 1
                if i == 3:
                    break
        left_at = time.monotonic()
        await _async_assert_hung_up_after(endless, left_at)


async def test_async_exception_inside_the_loop(endless: FaultServer) -> None:
    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:
        with pytest.raises(Boom):
            async with client.completions.create_stream(**PARAMS) as stream:
                async for _ in stream:
                    raise Boom
        left_at = time.monotonic()
        await _async_assert_hung_up_after(endless, left_at)


@pytest.mark.parametrize("with_block", [True, False], ids=["async-with", "awaited-async-for"])
async def test_async_cancelling_the_task(endless: FaultServer, with_block: bool) -> None:
    received = asyncio.Event()

    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:

        async def consume() -> None:
            if with_block:
                async with client.completions.create_stream(**PARAMS) as stream:
                    async for _ in stream:
                        received.set()
            else:
                async for _ in await client.completions.create_stream(**PARAMS):
                    received.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(received.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        left_at = time.monotonic()
        await _async_assert_hung_up_after(endless, left_at)


async def test_async_timeout_around_the_loop(endless: FaultServer) -> None:
    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:

        async def consume() -> None:
            async with client.completions.create_stream(**PARAMS) as stream:
                async for _ in stream:
                    pass

        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(consume(), 0.1)
        left_at = time.monotonic()
        await _async_assert_hung_up_after(endless, left_at)


async def test_async_explicit_aclose(endless: FaultServer) -> None:
    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:
        stream = await client.completions.create_stream(**PARAMS)
        await stream.__anext__()
        await stream.aclose()
        left_at = time.monotonic()
        await _async_assert_hung_up_after(endless, left_at)
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()


async def test_async_drop_the_last_reference(endless: FaultServer) -> None:
    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:
        stream = await client.completions.create_stream(**PARAMS)
        await stream.__anext__()
        await stream.__anext__()
        del stream  # no aclose(), no async with: the event loop must close it
        left_at = time.monotonic()
        await _async_assert_hung_up_after(endless, left_at)


async def test_async_break_from_awaited_async_for_then_drop(endless: FaultServer) -> None:
    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:
        async for _ in await client.completions.create_stream(**PARAMS):
            break
        left_at = time.monotonic()
        await _async_assert_hung_up_after(endless, left_at)


async def test_async_stream_created_but_never_opened_sends_nothing(endless: FaultServer) -> None:
    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:
        opener = client.completions.create_stream(**PARAMS)
        del opener
        await asyncio.sleep(0.05)
    assert endless.requests == []


async def test_async_many_cancelled_at_once(endless: FaultServer) -> None:
    started = 0

    async with AsyncAtomaClient(base_url=endless.url, max_retries=0) as client:

        async def consume() -> None:
            nonlocal started
            async with client.completions.create_stream(**PARAMS) as stream:
                async for _ in stream:
                    started += 1

        tasks = [asyncio.create_task(consume()) for _ in range(20)]
        assert await async_wait_until(lambda: len(endless.requests) == 20, 5)
        await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks)
        left_at = time.monotonic()
        assert await async_wait_until(
            lambda: all(r.ended is not None for r in endless.requests), HANG_UP_WITHIN
        )
    assert all(r.disconnected and r.ended is not None for r in endless.requests)
    assert max(r.ended or 0 for r in endless.requests) - left_at < HANG_UP_WITHIN
    assert started >= 20


# --- Iterating without holding the stream object ------------------------------------------
# ``for chunk in client.completions.create_stream(...)`` keeps only the iterator: dropping
# the stream object must not close the response under the loop that is still reading it.


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_iterating_create_stream_directly_reads_every_chunk(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(completion_stream(["a", "b", "c"], interval=0.02))
    if mode == "sync":
        with AtomaClient(base_url=fault_server.url, max_retries=0) as client:
            texts = [c.choices[0].text for c in client.completions.create_stream(**PARAMS)]
    else:
        async with AsyncAtomaClient(base_url=fault_server.url, max_retries=0) as aclient:
            opener = aclient.completions.create_stream(**PARAMS)
            texts = [c.choices[0].text async for c in await opener]
    assert texts == ["a", "b", "c", ""]
    assert not fault_server.requests[0].disconnected

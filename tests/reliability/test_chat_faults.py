"""What chat adds to the stream faults: tool calls over a real socket, cut or left early.

Every fault of test_stream_faults.py, test_status_errors.py and test_leaks.py already runs
against ``chat.completions`` too (the ``-chat`` modes). These are the faults that only
chat has: tool-call pieces split across TCP writes byte by byte, a connection dropped in
the middle of a tool call's arguments, and leaving a tool-call stream early.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient, StreamInterruptedError
from tests.support.fault_server import (
    DONE,
    Drop,
    FaultServer,
    Pause,
    Step,
    Stream,
    Write,
    async_wait_until,
    chunk,
    sse,
    tool_call_chunk,
    wait_until,
)

from ._runs import CHAT_PARAMS, run_stream

CHAT_MODES = ("sync-chat", "async-chat")
WEATHER_ARGS = ['{"ci', 'ty": "Pa', 'ris", "unit": "\u00b0C"}']
TIME_ARGS = ['{"tz": ', '"CET"}']


def _two_tool_calls() -> list[bytes]:
    """Two tool calls interleaved by index, as SSE events; ends with finish and [DONE]."""
    events = [
        tool_call_chunk(0, "", call_id="call_a", name="get_weather"),
        tool_call_chunk(1, "", call_id="call_b", name="get_time"),
    ]
    for weather, tz in zip(WEATHER_ARGS, [*TIME_ARGS, ""], strict=True):
        events.append(tool_call_chunk(0, weather))
        if tz:
            events.append(tool_call_chunk(1, tz))
    events.append(chunk(chat=True, finish_reason="tool_calls"))
    return [sse(event) for event in events] + [DONE]


def _calls(message: Any) -> list[tuple[str, str, str]]:
    return [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]


EXPECTED = [
    ("call_a", "get_weather", "".join(WEATHER_ARGS)),
    ("call_b", "get_time", "".join(TIME_ARGS)),
]


@pytest.mark.parametrize("mode", CHAT_MODES)
async def test_tool_call_pieces_written_byte_by_byte_are_merged_by_index(
    fault_server: FaultServer, mode: str
) -> None:
    body = b"".join(_two_tool_calls())
    steps: list[Step] = []
    for i in range(len(body)):
        steps.append(Write(body[i : i + 1]))
        if i % 40 == 0:
            steps.append(Pause(0.001))  # so reads really end at many different bytes
    fault_server.always(Stream(steps))

    outcome = await run_stream(mode, fault_server.url)

    assert outcome.error is None
    assert outcome.message is not None
    assert _calls(outcome.message) == EXPECTED
    assert outcome.finish_reason == "tool_calls"


@pytest.mark.parametrize("mode", CHAT_MODES)
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_drop_inside_a_tool_call_carries_the_partial_call(
    fault_server: FaultServer, backoff: list[float], mode: str, reset: bool
) -> None:
    events = _two_tool_calls()[:4]  # both calls started, and the first piece of each
    fault_server.always(Stream([*(Write(e) for e in events), Drop(reset=reset)]))

    outcome = await run_stream(mode, fault_server.url, max_retries=3)

    assert isinstance(outcome.error, StreamInterruptedError)
    partial = outcome.error.partial_message
    assert _calls(partial) == [
        ("call_a", "get_weather", '{"ci'),
        ("call_b", "get_time", '{"tz": '),
    ]
    assert "tool call" in str(outcome.error)
    assert len(fault_server.requests) == 1  # a tool call had begun: never retried
    assert backoff == []


def _endless_tool_call() -> Stream:
    def steps() -> Any:
        yield Write(sse(tool_call_chunk(0, "", call_id="c", name="write_essay")))
        while True:
            yield Write(sse(tool_call_chunk(0, "word ")))
            yield Pause(0.01)

    return Stream(steps)


def test_leaving_a_tool_call_stream_early_closes_the_connection(
    fault_server: FaultServer,
) -> None:
    fault_server.always(_endless_tool_call())
    with AtomaClient(base_url=fault_server.url, max_retries=0) as client:
        with client.chat.completions.create_stream(**CHAT_PARAMS) as stream:
            for i, _ in enumerate(stream):
                if i == 5:
                    break
        left_at = time.monotonic()
        assert wait_until(lambda: fault_server.requests[-1].ended is not None)
    record = fault_server.requests[-1]
    assert record.disconnected and record.ended is not None and record.ended - left_at < 1.0
    assert _calls(stream.message) == [("c", "write_essay", "word " * 5)]


async def test_cancelling_a_task_reading_a_tool_call_stream_closes_the_connection(
    fault_server: FaultServer,
) -> None:
    fault_server.always(_endless_tool_call())
    async with AsyncAtomaClient(base_url=fault_server.url, max_retries=0) as client:
        started = asyncio.Event()

        async def consume() -> None:
            async with client.chat.completions.create_stream(**CHAT_PARAMS) as stream:
                async for _ in stream:
                    started.set()

        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        left_at = time.monotonic()
        assert await async_wait_until(lambda: fault_server.requests[-1].ended is not None)
    record = fault_server.requests[-1]
    assert record.disconnected and record.ended is not None and record.ended - left_at < 1.0

"""Load: hundreds of streams and a thousand requests in flight through one AsyncAtomaClient.

Against the real local server: the llama.cpp server answers one request at a time, so 500
streams open at once wait in its queue while the client holds 500 connections; nothing may
time out, mix up or lose a token. At temperature 0 the tiny model is deterministic, so each
streamed text must equal the whole completion of the same prompt, fetched first, token for
token. Afterwards the pool is drained: no connection is still in use, and closing the
client closes every socket.

Against the fault server: 1,024 requests in flight with the default settings each get a
connection of their own at once (no wait for a pool slot, so no pool timeout) and succeed.

Both run on each async transport (the suite's ``async_transport`` fixture).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]

from atoma_integrations import AsyncAtomaClient
from tests.support.fault_server import FaultServer, async_wait_until, completion_reply

from ._runs import PARAMS

STREAMS = 500
MAX_TOKENS = 8
PROMPTS = [f"Story number {i}: once upon a time" for i in range(5)]
IN_FLIGHT = 1024


def _sockets_to(port: int) -> list[Any]:
    """This process's TCP sockets connected to ``port`` (TIME_WAIT ones hold no descriptor)."""
    return [
        c
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status != psutil.CONN_TIME_WAIT
    ]


async def test_500_concurrent_streams_through_one_async_client_lose_no_token(
    server_base_url: str, server_model: str
) -> None:
    params: dict[str, Any] = {"model": server_model, "max_tokens": MAX_TOKENS, "temperature": 0}
    port = urlsplit(server_base_url).port
    assert port is not None
    # Other tests' shared adapter clients may keep idle connections to the same server.
    before = len(_sockets_to(port))
    async with AsyncAtomaClient(base_url=server_base_url, max_retries=0) as client:
        expected = {}
        for prompt in PROMPTS:
            whole = await client.completions.create(prompt=prompt, **params)
            assert whole.usage is not None and whole.usage.completion_tokens == MAX_TOKENS
            expected[prompt] = whole.choices[0].text

        async def one(i: int) -> tuple[str, str, str | None, int, int | None]:
            prompt = PROMPTS[i % len(PROMPTS)]
            text, finish, chunks = "", None, 0
            async with client.completions.create_stream(prompt=prompt, **params) as stream:
                async for chunk in stream:
                    chunks += 1
                    text += chunk.choices[0].text
                    finish = chunk.choices[0].finish_reason or finish
            tokens = stream.usage.completion_tokens if stream.usage is not None else None
            return prompt, text, finish, chunks, tokens

        start = time.monotonic()
        results = await asyncio.gather(*(one(i) for i in range(STREAMS)))
        elapsed = time.monotonic() - start
        # Drained: every stream returned its connection; what is left is idle and reusable.
        idle = len(_sockets_to(port))
        again = await client.completions.create(prompt=PROMPTS[0], **params)
        assert again.choices[0].text == expected[PROMPTS[0]]
        assert len(_sockets_to(port)) <= idle  # served from the pool, no new connection
    assert await async_wait_until(lambda: len(_sockets_to(port)) <= before, 5), (
        "closing the client left sockets open"
    )

    assert len(results) == STREAMS
    for prompt, text, finish, chunks, tokens in results:
        assert text, "a stream delivered no text"
        assert text == expected[prompt]  # every token, in order, none from another stream
        assert finish == "length"  # the tiny model never stops early: max_tokens were made
        assert 1 <= chunks <= MAX_TOKENS + 1
        # The server's own count, where it reports one, agrees with what arrived.
        assert tokens in (None, MAX_TOKENS)
    # One request at a time on the server: seconds, not minutes.
    assert elapsed < 120


async def test_1024_requests_in_flight_with_default_settings_each_get_a_connection(
    fault_server: FaultServer,
) -> None:
    # Each answer waits a second, so all requests are in flight together.
    fault_server.always(dataclasses.replace(completion_reply("hi"), delay=1.0))
    async with AsyncAtomaClient(base_url=fault_server.url, max_retries=0) as client:
        results = await asyncio.gather(
            *(client.completions.create(**PARAMS) for _ in range(IN_FLIGHT)),
            return_exceptions=True,
        )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], f"{len(errors)} failed, first: {errors[0]!r}"
    assert all(r.choices[0].text == "hi" for r in results if not isinstance(r, BaseException))
    # No request waited for another's connection: the pool had a slot for each at once.
    assert fault_server.connections_opened == IN_FLIGHT

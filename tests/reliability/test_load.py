"""Load: 200 concurrent streams through one AsyncAtomaClient, against the real local server.

The llama.cpp server answers one request at a time, so 200 streams open at once wait in
its queue while the client holds 200 connections; nothing may time out, mix up or lose a
token. At temperature 0 the tiny model is deterministic, so each streamed text must equal
the whole completion of the same prompt, fetched first, token for token.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from atoma_integrations import AsyncAtomaClient

STREAMS = 200
MAX_TOKENS = 8
PROMPTS = [f"Story number {i}: once upon a time" for i in range(5)]


@pytest.mark.integration
async def test_200_concurrent_streams_through_one_async_client_lose_no_token(
    server_base_url: str, server_model: str
) -> None:
    params: dict[str, Any] = {"model": server_model, "max_tokens": MAX_TOKENS, "temperature": 0}
    async with AsyncAtomaClient(base_url=server_base_url, max_retries=0) as client:
        expected = {}
        for prompt in PROMPTS:
            whole = await client.completions.create(prompt=prompt, **params)
            assert whole.usage is not None and whole.usage.completion_tokens == MAX_TOKENS
            expected[prompt] = whole.choices[0].text

        async def one(i: int) -> tuple[str, str, str | None, int]:
            prompt = PROMPTS[i % len(PROMPTS)]
            text, finish, chunks = "", None, 0
            async with client.completions.create_stream(prompt=prompt, **params) as stream:
                async for chunk in stream:
                    chunks += 1
                    text += chunk.choices[0].text
                    finish = chunk.choices[0].finish_reason or finish
            return prompt, text, finish, chunks

        start = time.monotonic()
        results = await asyncio.gather(*(one(i) for i in range(STREAMS)))
        elapsed = time.monotonic() - start

    assert len(results) == STREAMS
    for prompt, text, finish, chunks in results:
        assert text, "a stream delivered no text"
        assert text == expected[prompt]  # every token, in order, none from another stream
        assert finish == "length"  # the tiny model never stops early: max_tokens were made
        assert 1 <= chunks <= MAX_TOKENS + 1
    # One request at a time on the server: a few seconds, not minutes.
    assert elapsed < 60

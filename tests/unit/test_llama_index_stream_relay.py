"""The one LlamaIndex stream relay and its finish-and-usage rule, without a server.

A finish chunk is held back until the stream ends, so that the final response carries the
usage once; when another chunk with choice 0 follows it, it is delivered as an ordinary
response instead. Closing the consumer closes the stream, sync and async alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

from atoma_integrations.llama_index._completion_responses import CompletionChunkMapper
from atoma_integrations.llama_index._stream_relay import arelay_stream, relay_stream
from atoma_integrations.types import CompletionChunk, Usage

USAGE = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)


def _chunk(text: str, finish_reason: str | None = None) -> CompletionChunk:
    return CompletionChunk.model_validate(
        {
            "id": "c",
            "model": "m",
            "choices": [{"index": 0, "text": text, "finish_reason": finish_reason}],
        }
    )


class _Stream:
    """A core stream's shape: chunks, the usage, and close / aclose that are recorded."""

    def __init__(self, chunks: list[CompletionChunk], usage: Usage | None) -> None:
        self.chunks = chunks
        self.usage = usage
        self.closed = False

    def __iter__(self) -> Iterator[CompletionChunk]:
        return iter(self.chunks)

    async def _items(self) -> AsyncIterator[CompletionChunk]:
        for chunk in self.chunks:
            yield chunk

    def __aiter__(self) -> AsyncIterator[CompletionChunk]:
        return self._items()

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def test_the_finish_chunk_becomes_the_final_response_with_the_usage() -> None:
    stream = _Stream([_chunk("a"), _chunk("b", "stop")], USAGE)
    responses = list(relay_stream(stream, CompletionChunkMapper()))
    assert [(r.delta, r.text) for r in responses] == [("a", "a"), ("b", "ab")]
    final = responses[-1]
    assert final.additional_kwargs == {
        "finish_reason": "stop",
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "total_tokens": 5,
    }
    assert final.raw.usage == USAGE
    assert responses[0].additional_kwargs == {}
    assert stream.closed


def test_a_finish_chunk_followed_by_more_is_released_as_an_ordinary_response() -> None:
    stream = _Stream([_chunk("a", "stop"), _chunk("b")], USAGE)
    responses = list(relay_stream(stream, CompletionChunkMapper()))
    assert [(r.delta, r.text) for r in responses] == [("a", "a"), ("b", "ab"), ("", "ab")]
    assert "total_tokens" not in responses[0].additional_kwargs
    # The last chunk with a choice 0 had no finish_reason: the final response says so.
    assert responses[-1].additional_kwargs["finish_reason"] is None
    assert responses[-1].additional_kwargs["total_tokens"] == 5


def test_the_async_relay_gives_the_same_responses_and_closes_on_an_early_exit() -> None:
    chunks = [_chunk("a"), _chunk("b", "stop")]

    async def run() -> tuple[list[str], bool, bool]:
        whole = _Stream(chunks, USAGE)
        deltas = [r.delta async for r in arelay_stream(whole, CompletionChunkMapper())]
        early = _Stream(chunks, USAGE)
        responses = arelay_stream(early, CompletionChunkMapper())
        async for _ in responses:
            break
        await responses.aclose()
        return deltas, whole.closed, early.closed

    deltas, whole_closed, early_closed = asyncio.run(run())
    assert deltas == ["a", "b"]
    assert whole_closed and early_closed


def test_breaking_out_of_the_sync_relay_closes_the_stream() -> None:
    stream = _Stream([_chunk("a"), _chunk("b"), _chunk("c", "stop")], None)
    responses = relay_stream(stream, CompletionChunkMapper())
    assert next(responses).delta == "a"
    responses.close()
    assert stream.closed

"""An in-memory stand-in for a completions server, for unit tests of the client.

It is an ``httpx.MockTransport`` handler that answers from a script of responses and
records every request, so a test can say what the server returns and then check what the
client sent and how often. Streams are served in exactly the pieces given, so tests control
how bytes are split across network reads (and can end in a dropped connection).
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from atoma_integrations import AsyncAtomaClient, AtomaClient

BASE_URL = "http://testserver/v1"


class Pieces(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in the given pieces; optionally fails after the last."""

    def __init__(self, pieces: Sequence[bytes], *, fail_with: Exception | None = None) -> None:
        self.pieces = list(pieces)
        self.fail_with = fail_with
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.fail_with is not None:
            raise self.fail_with

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.fail_with is not None:
            raise self.fail_with

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def sse(*events: dict[str, Any] | str, done: bool = False) -> bytes:
    """Encode events as SSE ``data:`` lines (a str is sent verbatim as the data)."""
    out = b""
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        out += b"data: " + data.encode() + b"\n\n"
    if done:
        out += b"data: [DONE]\n\n"
    return out


def chunk(
    text: str, finish_reason: str | None = None, index: int = 0, **extra: Any
) -> dict[str, Any]:
    """One streamed completion chunk in vLLM / Atoma shape."""
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": index, "text": text, "finish_reason": finish_reason, "logprobs": None}
        ],
        **extra,
    }


def completion(text: str = "Hello", finish_reason: str = "stop", **extra: Any) -> dict[str, Any]:
    """A full completion response body."""
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        **extra,
    }


def vector_for(text: str) -> list[float]:
    """A vector that identifies its text, so a mix-up of order shows."""
    return [float(len(text)), float(sum(map(ord, text)) % 97), 0.25]


def embeddings_body(
    texts: list[str], *, order: list[int] | None = None, b64: bool = False, **extra: Any
) -> dict[str, Any]:
    """An embeddings answer for ``texts``, listing them in ``order`` (base64 if asked)."""
    data = []
    for i in order if order is not None else range(len(texts)):
        vector: Any = vector_for(texts[i])
        if b64:
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vector})
    usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
    return {"object": "list", "model": "m", "data": data, "usage": usage, **extra}


def embeddings_echo(request: httpx.Request) -> httpx.Response:
    """Answers with one vector per input, in reverse order (servers may reorder)."""
    body = json.loads(request.content)
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    order = list(reversed(range(len(texts))))
    return json_reply(200, embeddings_body(texts, order=order))


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class MockServer:
    """Answers requests from ``replies`` in order (the last one repeats) and records them."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    streams: list[Pieces] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            reply = reply(request)
        if isinstance(reply.stream, Pieces):
            self.streams.append(reply.stream)
        return reply

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies the client sent."""
        return [json.loads(r.content) for r in self.requests if r.content]

    def client(self, **kwargs: Any) -> AtomaClient:
        kwargs.setdefault("base_url", BASE_URL)
        transport = httpx.MockTransport(self.handle)
        return AtomaClient(http_client=httpx.Client(transport=transport), **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncAtomaClient:
        kwargs.setdefault("base_url", BASE_URL)
        transport = httpx.MockTransport(self.handle)
        return AsyncAtomaClient(http_client=httpx.AsyncClient(transport=transport), **kwargs)


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response (or plain text when ``body`` is a str)."""
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def stream_reply(pieces: Sequence[bytes], *, fail_with: Exception | None = None) -> httpx.Response:
    """An SSE response whose body arrives in exactly these pieces."""
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        stream=Pieces(pieces, fail_with=fail_with),
    )


def chat_chunk(
    content: str | None = None,
    finish_reason: str | None = None,
    index: int = 0,
    *,
    role: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One streamed chat completion chunk in vLLM / Atoma / llama.cpp shape."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": index, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        ],
        **extra,
    }


def tool_delta(
    index: int, arguments: str, *, call_id: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """One piece of a streamed tool call."""
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    piece: dict[str, Any] = {"index": index, "function": function}
    if call_id is not None:
        piece["id"] = call_id
        piece["type"] = "function"
    return piece


def chat_completion(
    content: str | None = "Hello",
    finish_reason: str = "stop",
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A full chat completion response body."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        **extra,
    }

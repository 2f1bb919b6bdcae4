"""A fast, model-free OpenAI-compatible completions and chat server for the benchmarks.

It answers from canned, pre-encoded bytes so that its own cost per token is close to zero
and every microsecond the benchmarks see is the client's. It runs in its own process (the
parent starts it with :class:`ServerProcess`), so on a 2-core machine the server and the
client under test each have a core and the client's CPU time is its own.

Routes (``{wire}`` picks the wire format, see :data:`WIRES`):

- ``POST /{wire}/v1/completions``: ``max_tokens`` tokens; JSON, or SSE when ``"stream": true``.
  Each SSE event goes out as its own HTTP chunk (as real servers flush them) but all of them
  in one socket write, so the client is never waiting for the server.
- ``POST /{wire}/v1/chat/completions``: the same for chat. For :data:`REASONING_MODEL_ID` the
  answer is a reasoning model's: the first half of its tokens is reasoning (in the delta
  fields the wire's vLLM version sends, :attr:`Wire.reasoning_fields`), the rest the text.
- ``POST /{wire}/v1/embeddings``: one canned vector of :data:`EMBED_DIM` floats per input
  (picked by the text's CRC), as JSON floats or, when ``encoding_format`` is ``base64``, as
  base64 float32 (the openai SDK asks for base64 by default).
- ``GET /{wire}/v1/models`` and ``GET /{wire}/v1/open_router/models``: one model.
- ``GET /_stats``: ``{"connections": ..., "requests": ..., "streams": ...}``. A connection
  is counted at its first request that is not ``/_stats``, so reading the counters does not
  move them.

The process prints ``PORT <n>`` on stdout once it listens, and exits when its stdin closes
(the parent died or is done), so it never outlives a benchmark run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import os
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, ClassVar

__all__ = [
    "EMBED_DIM",
    "MODEL_ID",
    "REASONING_MODEL_ID",
    "WIRES",
    "ServerProcess",
    "Wire",
    "chat_body",
    "chat_reasoning_body",
    "chat_reasoning_stream_body",
    "chat_stream_body",
    "embedding_for",
    "embeddings_body",
    "reasoning_answer_of",
    "serve",
    "text_of",
]

MODEL_ID = "bench-model"
REASONING_MODEL_ID = "bench-reasoner"
"""The chat model id whose answers are a reasoning model's: reasoning first, then the text."""
PROMPT_TOKENS = 5
_WORDS = (" The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " café", ".")


@dataclass(frozen=True)
class Wire:
    """One SSE dialect: what a stream carries besides its text events."""

    done: bool
    """End with ``data: [DONE]`` (OpenAI, vLLM); Atoma's proxy never sends it."""
    keepalive_every: int
    """Put a ``: keep-alive`` comment before every n-th event (0: never); Atoma sends many."""
    atoma_fields: bool
    """Add Atoma's ``response_hash`` and ``signature`` to every chunk."""
    usage_chunk: bool = True
    """End with a usage-only chunk (``choices: []``), as with ``include_usage``."""
    reasoning_fields: tuple[str, ...] = ("reasoning",)
    """The delta fields that carry a piece of reasoning (each gets the same piece)."""


WIRES: dict[str, Wire] = {
    # vLLM (0.16 on: reasoning as `reasoning` only) / OpenAI with stream_options.include_usage:
    # usage chunk, then [DONE].
    "openai": Wire(done=True, keepalive_every=0, atoma_fields=False),
    # Atoma's proxy: no [DONE], keep-alive comments, hash and signature on every chunk; its
    # vLLM backends (0.11.1 to 0.15) send reasoning as both `reasoning_content` and `reasoning`.
    "atoma": Wire(
        done=False,
        keepalive_every=4,
        atoma_fields=True,
        reasoning_fields=("reasoning_content", "reasoning"),
    ),
}

_HASH = "q3B0bm9YzE1c0m9kZXItaGFzaC1vZi10aGUtcmVzcG9uc2U="
_SIGNATURE = "AGx" + "5" * 85 + "Qz="


def _token(i: int) -> str:
    return _WORDS[i % len(_WORDS)]


def text_of(n: int) -> str:
    """The text of every answer of ``n`` tokens (what a peer must return)."""
    return "".join(_token(i) for i in range(n))


def _reasoning_tokens(n: int) -> int:
    """How many of a reasoning answer's ``n`` tokens are reasoning: the first half."""
    return n // 2


def reasoning_answer_of(n: int) -> tuple[str, str]:
    """The reasoning and the text of every reasoning answer of ``n`` tokens."""
    split = _reasoning_tokens(n)
    return (
        "".join(_token(i) for i in range(split)),
        "".join(_token(i) for i in range(split, n)),
    )


def _choice(text: str, finish: str | None) -> dict[str, Any]:
    return {
        "index": 0,
        "text": text,
        "logprobs": None,
        "finish_reason": finish,
        "stop_reason": None,
    }


def _envelope(
    wire: Wire, choices: list[dict[str, Any]], usage: Any, kind: str = "text_completion"
) -> dict[str, Any]:
    """A body or chunk of ``kind`` (its ``object``), with Atoma's fields on that wire."""
    body: dict[str, Any] = {
        "id": f"{'chatcmpl' if kind.startswith('chat') else 'cmpl'}-bench0123456789abcdef",
        "object": kind,
        "created": 1_700_000_000,
        "model": MODEL_ID,
        "choices": choices,
        "usage": usage,
    }
    if wire.atoma_fields:
        body["response_hash"] = _HASH
        body["signature"] = _SIGNATURE
    return body


def _usage(n: int) -> dict[str, int]:
    return {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": n, "total_tokens": n + 5}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _http_chunk(payload: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(payload), payload)


def completion_body(wire: Wire, n: int) -> bytes:
    """The JSON body of a non-streamed completion of ``n`` tokens."""
    text = "".join(_token(i) for i in range(n))
    return _dumps(_envelope(wire, [_choice(text, "length")], _usage(n)))


def stream_body(wire: Wire, n: int) -> bytes:
    """The chunked SSE body of a streamed completion of ``n`` tokens, terminator included."""
    return _sse_body(wire, n, lambda i, finish: _choice(_token(i), finish), "text_completion")


def _sse_body(
    wire: Wire,
    n: int,
    choice: Callable[[int, str | None], dict[str, Any]],
    kind: str,
    lead: Sequence[dict[str, Any]] = (),
) -> bytes:
    """``lead`` events, one event per token (``choice(i, finish_reason)`` for token ``i`` in
    an envelope of ``kind``), then the usage chunk and ``[DONE]`` as ``wire`` has them,
    chunked."""
    parts = [_http_chunk(b"data: " + _dumps(event) + b"\n\n") for event in lead]
    for i in range(n):
        if wire.keepalive_every and i % wire.keepalive_every == 0:
            parts.append(_http_chunk(b": keep-alive\n\n"))
        finish = "length" if i == n - 1 else None
        event = _dumps(_envelope(wire, [choice(i, finish)], None, kind))
        parts.append(_http_chunk(b"data: " + event + b"\n\n"))
    if wire.usage_chunk:
        event = _dumps(_envelope(wire, [], _usage(n), kind))
        parts.append(_http_chunk(b"data: " + event + b"\n\n"))
    if wire.done:
        parts.append(_http_chunk(b"data: [DONE]\n\n"))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


# --- chat completions ------------------------------------------------------------------


_CHUNK = "chat.completion.chunk"


def _delta_choice(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}


def _role_chunk(wire: Wire) -> dict[str, Any]:
    return _envelope(
        wire, [_delta_choice({"role": "assistant", "content": ""}, None)], None, _CHUNK
    )


def chat_stream_body(wire: Wire, n: int) -> bytes:
    """The chunked SSE body of a streamed chat answer of ``n`` tokens, as vLLM sends it:
    a first chunk with the role, one per token, then usage and ``[DONE]`` per ``wire``."""
    return _sse_body(
        wire,
        n,
        lambda i, finish: _delta_choice({"content": _token(i)}, finish),
        _CHUNK,
        [_role_chunk(wire)],
    )


def chat_reasoning_stream_body(wire: Wire, n: int) -> bytes:
    """A reasoning model's streamed answer of ``n`` tokens, as vLLM sends it: the role, one
    delta per piece of reasoning (no ``content``), then one per piece of text."""
    split = _reasoning_tokens(n)

    def choice(i: int, finish: str | None) -> dict[str, Any]:
        if i < split:
            return _delta_choice(dict.fromkeys(wire.reasoning_fields, _token(i)), finish)
        return _delta_choice({"content": _token(i)}, finish)

    return _sse_body(wire, n, choice, _CHUNK, [_role_chunk(wire)])


def _chat_body(wire: Wire, n: int, message: dict[str, Any]) -> bytes:
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "length"}
    return _dumps(_envelope(wire, [choice], _usage(n), "chat.completion"))


def chat_body(wire: Wire, n: int) -> bytes:
    """The JSON body of a non-streamed chat answer of ``n`` tokens."""
    return _chat_body(wire, n, {"role": "assistant", "content": text_of(n)})


def chat_reasoning_body(wire: Wire, n: int) -> bytes:
    """The JSON body of a reasoning model's non-streamed answer of ``n`` tokens."""
    reasoning, text = reasoning_answer_of(n)
    message = {"role": "assistant", "content": text}
    message.update(dict.fromkeys(wire.reasoning_fields, reasoning))
    return _chat_body(wire, n, message)


# --- embeddings ------------------------------------------------------------------------

# Floats per vector: what small sentence-embedding models give (MiniLM has 384; 128 keeps a
# 10,000-text run short while the vectors still dominate the bytes, as they do in practice).
EMBED_DIM = 128
# Distinct canned vectors; a text gets the one its CRC picks, so every peer, whatever its
# batching, must return the same vector for the same text, in input order.
_VECTOR_COUNT = 64


def _vector(k: int) -> list[float]:
    # float32 values, so the JSON and base64 forms carry exactly the same numbers.
    values = [((k * 31 + i) % 1000) / 997.0 for i in range(EMBED_DIM)]
    return list(struct.unpack(f"<{EMBED_DIM}f", struct.pack(f"<{EMBED_DIM}f", *values)))


def _encoded_vectors(b64: bool) -> list[bytes]:
    out = []
    for k in range(_VECTOR_COUNT):
        vector = _vector(k)
        if b64:
            out.append(_dumps(base64.b64encode(struct.pack(f"<{EMBED_DIM}f", *vector)).decode()))
        else:
            out.append(_dumps(vector))
    return out


_VECTORS = {False: _encoded_vectors(False), True: _encoded_vectors(True)}


def embedding_for(text: str) -> list[float]:
    """The vector the server returns for ``text``."""
    return _vector(zlib.crc32(text.encode()) % _VECTOR_COUNT)


def embeddings_body(inputs: list[str], b64: bool) -> bytes:
    """The JSON body of an embeddings answer: pre-encoded vectors, one per input, in order."""
    vectors = _VECTORS[b64]
    items = [
        b'{"object":"embedding","index":%d,"embedding":%b}'
        % (i, vectors[zlib.crc32(text.encode()) % _VECTOR_COUNT])
        for i, text in enumerate(inputs)
    ]
    n = len(inputs)
    return (
        b'{"object":"list","model":"%b","data":[%b],"usage":{"prompt_tokens":%d,'
        b'"total_tokens":%d}}' % (MODEL_ID.encode(), b",".join(items), 4 * n, 4 * n)
    )


_JSON_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
_SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
_MODELS = _dumps(
    {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "bench"}]}
)
_OPEN_ROUTER = _dumps({"data": [{"id": MODEL_ID, "context_length": 8192}]})


def _json_response(status: bytes, body: bytes) -> bytes:
    head = b"HTTP/1.1 %b\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
    return head % (status, len(body)) + body


class _Stats:
    """Counters the benchmarks read through ``GET /_stats``."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.streams = 0


class _Responses:
    """Pre-encoded responses, built once per (route, wire, stream, max_tokens)."""

    # route -> (streamed body, whole body), each of (wire, max_tokens)
    _BODIES: ClassVar[
        dict[str, tuple[Callable[[Wire, int], bytes], Callable[[Wire, int], bytes]]]
    ] = {
        "completions": (stream_body, completion_body),
        "chat/completions": (chat_stream_body, chat_body),
        "chat/completions reasoning": (chat_reasoning_stream_body, chat_reasoning_body),
    }

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, bool, int], bytes] = {}

    def answer(self, route: str, wire_name: str, stream: bool, n: int) -> bytes:
        """The whole HTTP response to a request of ``n`` tokens on ``route`` (a key of
        :attr:`_BODIES`)."""
        key = (route, wire_name, stream, n)
        response = self._cache.get(key)
        if response is None:
            streamed, whole = self._BODIES[route]
            wire = WIRES[wire_name]
            if stream:
                response = _SSE_HEAD + streamed(wire, n)
            else:
                body = whole(wire, n)
                response = _JSON_HEAD % len(body) + body
            self._cache[key] = response
        return response

    def embeddings(self, inputs: list[str], b64: bool) -> bytes:
        """An embeddings answer for ``inputs`` (joined from pre-encoded vectors)."""
        body = embeddings_body(inputs, b64)
        return _JSON_HEAD % len(body) + body


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: parse requests, write canned responses."""

    def __init__(self, stats: _Stats, responses: _Responses) -> None:
        self._stats = stats
        self._responses = responses
        self._buffer = b""
        self._counted = False
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._transport is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            close = False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            if len(self._buffer) < end + 4 + length:
                return
            body = self._buffer[end + 4 : end + 4 + length]
            self._buffer = self._buffer[end + 4 + length :]
            self._transport.write(self._respond(method, path, body))
            if close:
                self._transport.close()
                self._transport = None

    def _respond(self, method: str, path: str, body: bytes) -> bytes:
        stats = self._stats
        if path == "/_stats":
            counters = {
                "connections": stats.connections,
                "requests": stats.requests,
                "streams": stats.streams,
            }
            return _json_response(b"200 OK", _dumps(counters))
        if not self._counted:
            self._counted = True
            stats.connections += 1
        stats.requests += 1
        wire, _, route = path.lstrip("/").partition("/")
        if wire not in WIRES:
            return _json_response(b"404 Not Found", b'{"error":{"message":"unknown wire"}}')
        if method == "POST" and route in ("v1/completions", "v1/chat/completions"):
            request = json.loads(body)
            stream = bool(request.get("stream"))
            stats.streams += stream
            n = int(request.get("max_completion_tokens") or request.get("max_tokens") or 16)
            kind = route.removeprefix("v1/")
            if request.get("model") == REASONING_MODEL_ID and kind == "chat/completions":
                kind += " reasoning"
            return self._responses.answer(kind, wire, stream, n)
        if method == "POST" and route == "v1/embeddings":
            request = json.loads(body)
            inputs = request.get("input")
            inputs = inputs if isinstance(inputs, list) else [inputs]
            return self._responses.embeddings(inputs, request.get("encoding_format") == "base64")
        if method == "GET" and route == "v1/models":
            return _json_response(b"200 OK", _MODELS)
        if method == "GET" and route == "v1/open_router/models":
            return _json_response(b"200 OK", _OPEN_ROUTER)
        return _json_response(b"404 Not Found", b'{"error":{"message":"no such route"}}')


async def serve(host: str = "127.0.0.1", port: int = 0, out: IO[str] | None = None) -> None:
    """Listen on ``host:port`` (0: any free port), print ``PORT <n>``, serve until stdin closes."""
    stats = _Stats()
    responses = _Responses()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Connection(stats, responses), host, port, backlog=1024
    )
    bound = server.sockets[0].getsockname()[1]
    out = out or sys.stdout
    out.write(f"PORT {bound}\n")
    out.flush()
    stopped = loop.create_future()
    # The parent holds our stdin: EOF means it is finished (or gone), so stop.
    threading.Thread(target=_wait_for_eof, args=(loop, stopped), daemon=True).start()
    async with server:
        await stopped


def _wait_for_eof(loop: asyncio.AbstractEventLoop, stopped: asyncio.Future[None]) -> None:
    with contextlib.suppress(Exception):
        sys.stdin.buffer.read()
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_finish, stopped)


def _finish(stopped: asyncio.Future[None]) -> None:
    if not stopped.done():
        stopped.set_result(None)


class ServerProcess:
    """Start the server in a child process; ``base_url(wire)`` and ``stats()`` while it runs.

    Used as a context manager; leaving the block closes the child's stdin and waits for it.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.port = 0
        """The ephemeral port the server listens on."""

    def __enter__(self) -> ServerProcess:
        env = dict(os.environ, PYTHONHASHSEED="0")
        self._process = subprocess.Popen(
            [sys.executable, "-u", os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("PORT "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the benchmark server did not start (it printed {line!r})")
        self.port = int(line.split()[1])
        return self

    def base_url(self, wire: str = "openai") -> str:
        """Base URL, with ``/v1``, of one wire format."""
        return f"http://127.0.0.1:{self.port}/{wire}/v1"

    def stats(self) -> dict[str, int]:
        """The server's counters (a connection of its own, which is not counted)."""
        # http.client rather than urllib: no proxy settings from the environment apply.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/_stats")
            result: dict[str, int] = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        return result

    @property
    def pid(self) -> int:
        """The server process id (for the report, and for measuring its CPU time)."""
        assert self._process is not None
        return self._process.pid

    def __exit__(self, *exc_info: object) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        with contextlib.suppress(Exception):
            assert process.stdin is not None
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    asyncio.run(serve())

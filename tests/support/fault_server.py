"""A real HTTP/1.1 server on 127.0.0.1 whose every answer a test scripts: the fault injector.

Mocked transports cannot show what matters most for reliability: that a socket really
closes, that a timeout really fires, that bytes split across TCP writes really arrive in
pieces. So this server speaks raw HTTP/1.1 over asyncio streams, writing status lines,
headers, chunked framing and connection drops itself, on an ephemeral port, in a thread
of the test process with its own event loop.

A test scripts answers in order (``enqueue``) or for every request (``always``):

- :class:`Reply`: a whole response (status, body, headers), optionally after a stall;
- :class:`Stream`: a body written step by step: :class:`Write` (one flushed write, which
  is one chunk of the chunked encoding), :class:`Pause`, :class:`Drop` (hang up);
- :class:`NoAnswer`: hang up without any status line (a connection error for the client).

and then asserts on :attr:`FaultServer.requests`: method, path, headers, body, when each
request arrived and ended, on which TCP connection, and whether the client hung up before
the answer was complete. Builders for Atoma-shaped bodies (``chunk``, ``sse``,
``error_reply``, ``completion_stream`` ...) are at the end of the module.

Everything is bounded: each answer is cut off after ``max_answer_seconds``, and the server
stops itself after ``lifetime`` seconds even if a test forgets to stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeAlias

import psutil  # type: ignore[import-untyped]

__all__ = [
    "DONE",
    "Behaviour",
    "Drop",
    "FaultServer",
    "NoAnswer",
    "Pause",
    "RecordedRequest",
    "Reply",
    "Step",
    "Stream",
    "Write",
    "async_wait_until",
    "chunk",
    "completion_reply",
    "completion_stream",
    "endless_stream",
    "error_body",
    "error_reply",
    "sse",
    "tool_call_chunk",
    "usage",
    "use_chat_shape",
    "wait_until",
]


# --- What a test scripts ---------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """Send these bytes as one write, flushed at once (one chunk when chunked)."""

    data: bytes
    """The bytes of this write."""


@dataclass(frozen=True)
class Pause:
    """Send nothing for this long (cut short if the client hangs up)."""

    seconds: float
    """How long to stay silent."""


@dataclass(frozen=True)
class Drop:
    """Hang up now, mid-body: no chunked terminator."""

    reset: bool = False
    """True: abort the socket (RST); False: an orderly close (FIN)."""


Step: TypeAlias = Write | Pause | Drop


@dataclass(frozen=True)
class Reply:
    """A whole response with a ``Content-Length``."""

    status: int = 200
    """HTTP status code."""
    body: bytes = b""
    """The response body."""
    content_type: str = "application/json"
    """Value of the ``Content-Type`` header."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra response headers (``x-request-id``, ``Retry-After`` ...)."""
    delay: float = 0.0
    """Seconds of silence before the status line (a stall before the headers)."""


@dataclass(frozen=True)
class Stream:
    """A body written step by step, chunked (or ended by closing, when not chunked)."""

    steps: Sequence[Step] | Callable[[], Iterable[Step]]
    """The steps, or a function returning a fresh iterable of them (for endless streams)."""
    status: int = 200
    """HTTP status code."""
    content_type: str = "text/event-stream"
    """Value of the ``Content-Type`` header."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra response headers."""
    delay: float = 0.0
    """Seconds of silence before the status line."""
    chunked: bool = True
    """Chunked transfer encoding; False sends no length and closes the connection to end."""
    terminate: bool = True
    """Write the chunked terminator after the last step (False: close without it)."""

    def iter_steps(self) -> Iterable[Step]:
        """The steps of one answer."""
        return self.steps() if callable(self.steps) else self.steps


@dataclass(frozen=True)
class NoAnswer:
    """Read the request, then hang up without sending a status line."""

    reset: bool = False
    """True: abort the socket (RST); False: an orderly close (FIN)."""
    delay: float = 0.0
    """Seconds of silence before hanging up."""


Behaviour: TypeAlias = Reply | Stream | NoAnswer
Script: TypeAlias = "Behaviour | Callable[[RecordedRequest], Behaviour]"


@dataclass
class RecordedRequest:
    """One request as the server received it, and how its answer went."""

    method: str
    """The request method."""
    path: str
    """The request target (path and query)."""
    headers: dict[str, str]
    """Request headers, names lower-cased."""
    body: bytes
    """The request body."""
    connection: int
    """Serial number of the TCP connection it came on (same number: connection reused)."""
    started: float
    """``time.monotonic()`` when the request had been read."""
    ended: float | None = None
    """``time.monotonic()`` when the answer was complete or the client hung up."""
    disconnected: bool = False
    """True when the client hung up before the answer was complete."""

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


# --- The server --------------------------------------------------------------------------

_NOTHING_SCRIPTED: Behaviour  # defined after the builders below


class _HungUp(Exception):
    """The client closed the connection while the answer was being written."""


class _Connection:
    """One accepted TCP connection: a background reader that notices the client hanging up.

    All bytes the client sends are pumped into a buffer the request parser reads from, so
    an end-of-file (or a reset) is seen at once even while the server is busy answering.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.buffer = bytearray()
        self.eof = asyncio.Event()
        self._changed = asyncio.Event()
        self._pump = asyncio.get_running_loop().create_task(self._read_all(reader))

    async def _read_all(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                self.buffer += data
                self._changed.set()
        except (ConnectionError, OSError):
            pass
        finally:
            self.eof.set()
            self._changed.set()

    async def read_until(self, separator: bytes) -> bytes | None:
        """Bytes up to and including ``separator``; None if the client hung up first."""
        while True:
            end = self.buffer.find(separator)
            if end >= 0:
                end += len(separator)
                data = bytes(self.buffer[:end])
                del self.buffer[:end]
                return data
            if self.eof.is_set():
                return None
            self._changed.clear()
            await self._changed.wait()

    async def read_exactly(self, size: int) -> bytes | None:
        """Exactly ``size`` bytes; None if the client hung up first."""
        while len(self.buffer) < size:
            if self.eof.is_set():
                return None
            self._changed.clear()
            await self._changed.wait()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def pause(self, seconds: float) -> None:
        """Stay silent for ``seconds``; raise _HungUp as soon as the client hangs up."""
        if seconds <= 0:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.eof.wait(), seconds)
        if self.eof.is_set():
            raise _HungUp

    async def write(self, data: bytes) -> None:
        """Write and flush; raise _HungUp if the client is gone."""
        if self.eof.is_set() or self.writer.is_closing():
            raise _HungUp
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise _HungUp from exc

    async def close(self, *, reset: bool = False) -> None:
        """Close the socket: an orderly FIN, or an abort when ``reset``."""
        if reset:
            self.writer.transport.abort()
        else:
            self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except Exception:
            # A client that stopped reading leaves the close pending: cut it.
            self.writer.transport.abort()
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._pump


class FaultServer:
    """The scripted HTTP/1.1 server; ``start()`` it, script it, read ``requests``, ``stop()``."""

    def __init__(self, *, lifetime: float = 300.0, max_answer_seconds: float = 20.0) -> None:
        self.lifetime = lifetime
        """Seconds after which the server stops itself, whatever the test does."""
        self.max_answer_seconds = max_answer_seconds
        """Longest any one answer may take; then the connection is cut."""
        self.requests: list[RecordedRequest] = []
        """Every request received, in order."""
        self.connections_opened = 0
        """TCP connections accepted so far."""
        self.port = 0
        """The ephemeral port it listens on (known after ``start()``)."""
        self._queue: deque[Script] = deque()
        self._default: Script = _NOTHING_SCRIPTED
        self._lock = threading.Lock()
        self._open: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._stopped = threading.Event()

    # Scripting -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL to give a client, including ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *scripts: Script) -> None:
        """Answer the next requests with these, in order; then fall back to ``always``."""
        with self._lock:
            self._queue.extend(scripts)

    def always(self, script: Script) -> None:
        """Answer every request not covered by ``enqueue`` with this."""
        with self._lock:
            self._default = script

    def _next_script(self) -> Script:
        with self._lock:
            return self._queue.popleft() if self._queue else self._default

    # Observation -----------------------------------------------------------------------

    @property
    def active_connections(self) -> int:
        """TCP connections currently open on the server side."""
        return len(self._open)

    def completions_requests(self) -> list[RecordedRequest]:
        """The requests to ``/v1/completions``."""
        return [r for r in self.requests if r.path.endswith("/completions")]

    # Life cycle ------------------------------------------------------------------------

    def start(self) -> FaultServer:
        """Listen on an ephemeral port of 127.0.0.1 in a background thread."""
        ready = threading.Event()
        errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, errors), name="fault-server", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault server did not start within 10 s")
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        """Stop listening, cut every connection, end the thread (waits at most 10 s)."""
        loop = self._loop
        if loop is not None and not self._stopped.is_set():
            with contextlib.suppress(RuntimeError):  # the loop may already be closing
                loop.call_soon_threadsafe(self._begin_stop)
        if self._thread is not None:
            self._thread.join(10)
            if self._thread.is_alive():
                raise RuntimeError("the fault server thread did not stop within 10 s")

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _listen(self) -> asyncio.Server:
        """Listen on an ephemeral port no socket of this process is still connected to.

        The adapters' process-wide clients keep idle connections to earlier tests' servers
        (in CLOSE_WAIT once those stopped). Were the kernel to hand out one of those ports
        again, the tests that count this process's sockets to this server would count
        such a connection too, and fail for a leak that is not there.
        """
        rejected: list[asyncio.Server] = []
        try:
            for _ in range(50):
                server = await asyncio.start_server(self._accept, "127.0.0.1", 0, backlog=1024)
                if server.sockets[0].getsockname()[1] not in _remote_ports_of_this_process():
                    return server
                rejected.append(server)  # kept open until the end: the port is not reissued
            raise RuntimeError("no ephemeral port free of this process's old connections")
        finally:
            for server in rejected:
                server.close()

    def _run(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(self._listen())
            self.port = self._server.sockets[0].getsockname()[1]
            loop.call_later(self.lifetime, self._begin_stop)
        except BaseException as exc:
            errors.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()
            self._stopped.set()

    def _begin_stop(self) -> None:
        assert self._loop is not None
        self._loop.stop()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._open):
            connection.writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    # Serving ---------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections_opened += 1
        serial = self.connections_opened
        connection = _Connection(reader, writer)
        self._open.add(connection)
        reset = False
        try:
            while True:
                record = await self._read_request(connection, serial)
                if record is None:
                    break
                keep_alive, reset = await self._answer_bounded(connection, record)
                if not keep_alive:
                    break
        except _HungUp:
            pass
        except asyncio.CancelledError:
            reset = True
        finally:
            await connection.close(reset=reset)
            self._open.discard(connection)
            self._tasks.discard(task)

    async def _read_request(self, connection: _Connection, serial: int) -> RecordedRequest | None:
        head = await connection.read_until(b"\r\n\r\n")
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await connection.read_exactly(int(headers.get("content-length", "0")))
        if body is None:
            return None
        record = RecordedRequest(
            method=method,
            path=target,
            headers=headers,
            body=body,
            connection=serial,
            started=time.monotonic(),
        )
        self.requests.append(record)
        return record

    async def _answer_bounded(
        self, connection: _Connection, record: RecordedRequest
    ) -> tuple[bool, bool]:
        """Answer one request; returns (keep the connection open, close it by reset)."""
        script = self._next_script()
        behaviour = script if isinstance(script, (Reply, Stream, NoAnswer)) else script(record)
        try:
            return await asyncio.wait_for(
                self._answer(connection, behaviour), self.max_answer_seconds
            )
        except _HungUp:
            record.disconnected = True
            return False, False
        except asyncio.TimeoutError:
            return False, True
        finally:
            record.ended = time.monotonic()

    async def _answer(self, connection: _Connection, behaviour: Behaviour) -> tuple[bool, bool]:
        await connection.pause(behaviour.delay)
        if isinstance(behaviour, NoAnswer):
            return False, behaviour.reset
        reason = _reason(behaviour.status)
        if isinstance(behaviour, Reply):
            head = _head(
                behaviour.status,
                reason,
                {
                    "Content-Type": behaviour.content_type,
                    "Content-Length": str(len(behaviour.body)),
                    **behaviour.headers,
                },
            )
            await connection.write(head + behaviour.body)
            return True, False

        framing = {"Transfer-Encoding": "chunked"} if behaviour.chunked else {"Connection": "close"}
        head = _head(
            behaviour.status,
            reason,
            {"Content-Type": behaviour.content_type, "Cache-Control": "no-cache", **framing}
            | dict(behaviour.headers),
        )
        await connection.write(head)
        for step in behaviour.iter_steps():
            if isinstance(step, Write):
                if step.data:
                    data = step.data
                    if behaviour.chunked:
                        data = b"%x\r\n" % len(data) + data + b"\r\n"
                    await connection.write(data)
            elif isinstance(step, Pause):
                await connection.pause(step.seconds)
            else:
                # A drop ends the answer early; the client sees a truncated body.
                return False, step.reset
        if behaviour.chunked and behaviour.terminate:
            await connection.write(b"0\r\n\r\n")
            return True, False
        return False, False


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _head(status: int, reason: str, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _remote_ports_of_this_process() -> set[int]:
    """The remote ports of this process's TCP sockets."""
    return {c.raddr.port for c in psutil.Process().net_connections(kind="tcp") if c.raddr}


def wait_until(predicate: Callable[[], bool], timeout: float = 1.0) -> bool:
    """Poll ``predicate`` (every 5 ms) until it holds or ``timeout`` passes; its last value.

    For sync tests only: in an async test it would block the very loop that has to run what
    is awaited (a dropped stream's ``aclose``, a transport's deferred socket close), so it
    refuses to run there. Use :func:`async_wait_until`.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("wait_until blocks the running event loop: use async_wait_until")
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return predicate()
        time.sleep(0.005)
    return True


async def async_wait_until(predicate: Callable[[], bool], timeout: float = 1.0) -> bool:
    """``wait_until`` for async tests: polls without blocking the test's event loop."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return predicate()
        await asyncio.sleep(0.005)
    return True


# --- Builders for Atoma-shaped bodies ----------------------------------------------------

DONE = b"data: [DONE]\n\n"
"""The OpenAI end-of-stream event (Atoma's proxy never sends it)."""

_SHAPE = {"chat": False}


def use_chat_shape(chat: bool) -> None:
    """Make the builders below answer in chat shape by default (``delta`` / ``message``).

    The reliability tests run every fault against completions and chat completions; the
    suite's conftest sets this from the test's ``mode`` so a fault is scripted once. A plain
    module value, not a context variable: endless streams build their events lazily, in
    the server's thread.
    """
    _SHAPE["chat"] = chat


def chunk(
    text: str = "",
    *,
    index: int = 0,
    finish_reason: str | None = None,
    usage: Mapping[str, int] | None = None,
    chat: bool | None = None,
    choices: bool = True,
) -> dict[str, Any]:
    """One streamed chunk as vLLM behind Atoma sends it (with Atoma's signature fields).

    ``chat`` gives the chat shape (``delta.content``; None: see :func:`use_chat_shape`);
    ``choices=False`` a usage-only chunk.
    """
    if chat is None:
        chat = _SHAPE["chat"]
    choice: dict[str, Any] = {"index": index, "finish_reason": finish_reason, "logprobs": None}
    if chat:
        choice["delta"] = {"content": text}
    else:
        choice["text"] = text
    return {
        "id": "cmpl-fault",
        "object": "chat.completion.chunk" if chat else "text_completion",
        "created": 1730000000,
        "model": "fault-model",
        "choices": [choice] if choices else [],
        "usage": dict(usage) if usage is not None else None,
        "response_hash": "aGFzaA==",
        "signature": "sig",
    }


def tool_call_chunk(
    index: int,
    arguments: str,
    *,
    call_id: str | None = None,
    name: str | None = None,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """A chat chunk carrying one piece of tool call ``index`` (id and name when given)."""
    event = chunk(chat=True, finish_reason=finish_reason)
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    piece: dict[str, Any] = {"index": index, "function": function}
    if call_id is not None:
        piece.update(id=call_id, type="function")
    event["choices"][0]["delta"] = {"tool_calls": [piece]}
    return event


def sse(payload: Mapping[str, Any] | str | bytes) -> bytes:
    """One SSE event: ``data: <payload>`` and a blank line (a str/bytes is sent verbatim)."""
    if isinstance(payload, Mapping):
        # Raw UTF-8 on the wire, as servers send it (not \\u escapes).
        data = json.dumps(payload, ensure_ascii=False).encode()
    elif isinstance(payload, str):
        data = payload.encode()
    else:
        data = payload
    return b"data: " + data + b"\n\n"


def usage(prompt: int, completion: int) -> dict[str, int]:
    """A usage object."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion_stream(
    texts: Sequence[str],
    *,
    finish_reason: str | None = "stop",
    done: bool = True,
    usage_chunk: Mapping[str, int] | None = None,
    usage_every_chunk: bool = False,
    chat: bool | None = None,
    interval: float = 0.0,
    drop_after: int | None = None,
    reset: bool = False,
    headers: Mapping[str, str] | None = None,
    chunked: bool = True,
) -> Stream:
    """An SSE completion: one event per text, then the finish, usage and ``[DONE]``.

    ``drop_after=K`` hangs up right after K text events. ``usage_every_chunk`` puts
    cumulative usage on every chunk (older vLLM behind Atoma does).
    """
    steps: list[Step] = []
    for i, text in enumerate(texts):
        if drop_after is not None and i == drop_after:
            steps.append(Drop(reset=reset))
            return Stream(steps, headers=dict(headers or {}), chunked=chunked)
        running = usage(5, i + 1) if usage_every_chunk else None
        steps.append(Write(sse(chunk(text, usage=running, chat=chat))))
        if interval:
            steps.append(Pause(interval))
    if drop_after is not None:
        steps.append(Drop(reset=reset))
        return Stream(steps, headers=dict(headers or {}), chunked=chunked)
    if finish_reason is not None:
        final_usage = usage(5, len(texts)) if usage_every_chunk else None
        steps.append(
            Write(sse(chunk("", finish_reason=finish_reason, usage=final_usage, chat=chat)))
        )
    if usage_chunk is not None:
        steps.append(Write(sse(chunk(usage=usage_chunk, choices=False))))
    if done:
        steps.append(Write(DONE))
    return Stream(steps, headers=dict(headers or {}), chunked=chunked)


def endless_stream(interval: float = 0.01, text: str = "tok ") -> Stream:
    """Text events every ``interval`` seconds until the client hangs up (or the answer cap)."""

    def steps() -> Iterator[Step]:
        while True:
            yield Write(sse(chunk(text)))
            yield Pause(interval)

    return Stream(steps)


def completion_reply(
    text: str = "Hello there", *, finish_reason: str = "length", headers: Mapping[str, str] = {}
) -> Reply:
    """A successful non-streamed completion (chat-shaped: see :func:`use_chat_shape`)."""
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish_reason, "logprobs": None}
    if _SHAPE["chat"]:
        choice["message"] = {"role": "assistant", "content": text}
    else:
        choice["text"] = text
    body = {
        "id": "cmpl-fault",
        "object": "chat.completion" if _SHAPE["chat"] else "text_completion",
        "created": 1730000000,
        "model": "fault-model",
        "choices": [choice],
        "usage": usage(5, 3),
        "response_hash": "aGFzaA==",
        "signature": "sig",
    }
    return Reply(200, json.dumps(body, ensure_ascii=False).encode(), headers=dict(headers))


def embeddings_reply(
    count: int, *, dim: int = 4, order: Sequence[int] | None = None, data: Any = None
) -> Reply:
    """A successful embeddings answer: ``count`` vectors (vector i is ``[i, i, ...]``),
    listed in ``order`` (default: input order); ``data`` replaces the list verbatim."""
    if data is None:
        data = [
            {"object": "embedding", "index": i, "embedding": [float(i)] * dim}
            for i in (order if order is not None else range(count))
        ]
    body = {
        "object": "list",
        "model": "fault-embed",
        "data": data,
        "usage": {"prompt_tokens": count, "total_tokens": count},
    }
    return Reply(200, json.dumps(body).encode())


def error_body(style: str, *, code: str | None, message: str) -> tuple[bytes, str]:
    """An error body in ``style`` ``atoma``, ``openai`` or ``text``, and its content type."""
    if style == "atoma":
        return json.dumps({"error": {"code": code, "message": message}}).encode(), (
            "application/json"
        )
    if style == "openai":
        return json.dumps(
            {"error": {"message": message, "type": "invalid_request_error", "code": code}}
        ).encode(), "application/json"
    if style == "text":
        return message.encode(), "text/plain; charset=utf-8"
    raise ValueError(f"unknown error body style {style!r}")


def error_reply(
    status: int,
    *,
    style: str = "atoma",
    code: str | None = "INTERNAL_ERROR",
    message: str = "Internal server error occurred",
    request_id: str | None = "req-fault-1",
    retry_after: str | None = None,
    delay: float = 0.0,
) -> Reply:
    """An error response in one of the three body styles, with ``x-request-id``."""
    body, content_type = error_body(style, code=code, message=message)
    headers: dict[str, str] = {}
    if request_id is not None:
        headers["x-request-id"] = request_id
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Reply(status, body, content_type=content_type, headers=headers, delay=delay)


_NOTHING_SCRIPTED = error_reply(
    404,
    code="NOT_SCRIPTED",
    message="the fault server has no answer scripted for this request",
    request_id=None,
)

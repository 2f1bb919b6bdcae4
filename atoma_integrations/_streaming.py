"""The stream objects callers hold, and their I/O loops: the only code here that reads.

One pair of loops serves both endpoints: completions yield :class:`CompletionChunk`, chat
completions :class:`ChatCompletionChunk`. Bytes become event payloads in the SSE decoder
(``_sse.py``); payloads become chunks in a state object without I/O
(``_stream_state.py``, ``_chat_stream_state.py``); this module reads the body, feeds both,
yields the chunks and closes the response. Only these loops are written twice (sync and
async); a network read costs one decoder call and one ``decode`` per event, nothing more.

Opening rule, the same for both clients: a stream object always holds an open response.
The request is sent, retried (connection errors, 408/429/5xx) and its status checked when
the stream is opened, before any chunk can be read, so HTTP errors surface there and a
stream is never retried once an event has arrived. The sync ``create_stream(...)`` opens
the stream itself; the async one returns an :class:`AsyncStreamOpener`, opened by
``async with`` (which also closes it) or ``await``.

Atoma's stream quirks handled here and in the state: no ``[DONE]`` (end of body ends the
stream), usage on every chunk or on a final ``choices: []`` chunk, error events mid-stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

import httpx
from typing_extensions import Self

from atoma_integrations._chat_stream_state import ChatStreamState
from atoma_integrations._sse import SSEDecoder
from atoma_integrations._stream_state import BaseStreamState, ChunkT, StreamState
from atoma_integrations.errors import AtomaError
from atoma_integrations.types import (
    ChatCompletionChunk,
    ChatCompletionMessage,
    CompletionChunk,
    Usage,
)

if TYPE_CHECKING:
    from atoma_integrations._signatures import SignatureVerifier

__all__ = [
    "AsyncChatCompletionStream",
    "AsyncCompletionStream",
    "AsyncStreamOpener",
    "ChatCompletionStream",
    "CompletionStream",
]

_PRIMING: Any = None  # the first, internal value of a sync stream's generator


def _transport_error_reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no data arrived within the read timeout ({type(exc).__name__})"
    return f"the connection failed mid-stream ({type(exc).__name__}: {exc})"


_T = TypeVar("_T")


class _ThenRaise(list[_T]):
    """The chunks decoded before a failing event of the same read, then its error.

    A read may hold several events; those before the one that fails (a bad signature, an
    error event) were checked and are part of what the error says was delivered, so they
    are yielded first and the error is raised after them.
    """

    def __init__(self, chunks: list[_T], error: AtomaError) -> None:
        super().__init__(chunks)
        self.error = error

    def __iter__(self) -> Iterator[_T]:
        yield from list.__iter__(self)
        raise self.error


def _chunks(state: BaseStreamState[ChunkT], payloads: list[bytes]) -> list[ChunkT]:
    """Decode the events of one network read; stops at ``[DONE]``."""
    out: list[ChunkT] = []
    for payload in payloads:
        try:
            chunk = state.decode(payload)
        except AtomaError as exc:
            if not out:
                raise
            return _ThenRaise(out, exc)
        if chunk is not None:
            out.append(chunk)
        elif state.done:
            break
    return out


def _iter_sync(
    response: httpx.Response, state: BaseStreamState[ChunkT]
) -> Generator[ChunkT, None, None]:
    # A plain function, not a method: the generator must not reference the stream object,
    # or dropping the stream would leave a reference cycle and the socket open until GC.
    # The stream primes it (one next()), so it owns the response from the start: whoever
    # drops it last, the stream or a for loop that kept only the iterator, closes the
    # response through the finally below, even if no chunk was read.
    decoder = SSEDecoder()
    try:
        yield _PRIMING
        raw = response.iter_raw() if _is_identity(response) else response.iter_bytes()
        for data in raw:
            yield from _chunks(state, decoder.feed(data))
            if state.done:
                # Read the chunked terminator so the connection goes back to the pool.
                for _ in raw:
                    pass
                break
        else:
            yield from _chunks(state, decoder.flush())
        state.finish()
    except httpx.HTTPError as exc:
        raise state.interrupted(_transport_error_reason(exc)) from exc
    finally:
        response.close()


async def _iter_async(
    response: httpx.Response, state: BaseStreamState[ChunkT]
) -> AsyncGenerator[ChunkT, None]:
    decoder = SSEDecoder()
    try:
        raw = response.aiter_raw() if _is_identity(response) else response.aiter_bytes()
        async for data in raw:
            for chunk in _chunks(state, decoder.feed(data)):
                yield chunk
            if state.done:
                async for _ in raw:
                    pass
                break
        else:
            for chunk in _chunks(state, decoder.flush()):
                yield chunk
        state.finish()
    except httpx.HTTPError as exc:
        raise state.interrupted(_transport_error_reason(exc)) from exc
    finally:
        await response.aclose()


class _StreamView(Generic[ChunkT]):
    """What both stream kinds tell about the response, text and usage received so far."""

    response: httpx.Response
    _state: BaseStreamState[ChunkT]

    @property
    def usage(self) -> Usage | None:
        """The last usage the server reported, or None."""
        return self._state.usage

    @property
    def text(self) -> str:
        """Text of choice 0 received so far."""
        return self._state.texts.get(0, "")

    @property
    def signers(self) -> set[str]:
        """The Sui addresses whose signatures the chunks so far passed (empty when the
        client does not verify signatures)."""
        return set(self._state.signers)


class _SyncStream(_StreamView[ChunkT]):
    """An open stream of chunks: iterate it; use it as a context manager.

    The HTTP response closes when the block is left, on ``close()``, when the stream is
    garbage collected (dropping it after a ``break``), on error, or at the end; closing early
    tells the server to stop generating. ``usage`` is known once the stream has ended.
    """

    def __init__(self, response: httpx.Response, state: BaseStreamState[ChunkT]) -> None:
        self.response = response
        """The underlying httpx response (status checked, headers available)."""
        self._state = state
        self._iterator: Generator[ChunkT, None, None] = _iter_sync(response, state)
        next(self._iterator)  # primed: the generator now closes the response when dropped

    def __iter__(self) -> Iterator[ChunkT]:
        return self._iterator

    def __next__(self) -> ChunkT:
        return next(self._iterator)

    def close(self) -> None:
        """Close the HTTP response; the server sees the disconnect and stops generating."""
        self._iterator.close()
        self.response.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _AsyncStream(_StreamView[ChunkT]):
    """The async twin of :class:`_SyncStream`: an open stream, ``async for`` it.

    Use it inside ``async with`` (or ``await stream.aclose()``). Task cancellation closes
    the response; a stream dropped unfinished is closed by its event loop (garbage
    collection).
    """

    def __init__(self, response: httpx.Response, state: BaseStreamState[ChunkT]) -> None:
        self.response = response
        """The underlying httpx response (status checked, headers available)."""
        self._state = state
        self._iterator: AsyncGenerator[ChunkT, None] = _iter_async(response, state)

    def __aiter__(self) -> Self:
        # The stream itself, not its generator: ``async for`` then holds the stream, so
        # __del__ cannot close the response under a loop that is still reading it.
        return self

    def __anext__(self) -> Awaitable[ChunkT]:
        return self._iterator.__anext__()

    async def aclose(self) -> None:
        """Close the HTTP response; the server sees the disconnect and stops generating."""
        # RuntimeError: the generator is mid-step in another task; closing the response
        # below still ends that step with a clean StreamInterruptedError.
        with contextlib.suppress(RuntimeError):
            await self._iterator.aclose()
        await self.response.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # An async generator never started has no finalizer, so the response is closed here.
        response = self.response
        if response.is_closed:
            return
        with contextlib.suppress(Exception):
            # Imported here, not at module level: importing the package must not import
            # asyncio, and an async stream only exists where it is already loaded.
            import asyncio

            # A coroutine cannot run here; hand the close to the loop that owns the socket.
            asyncio.get_running_loop().create_task(response.aclose())


StreamT = TypeVar("StreamT", bound="_AsyncStream[Any]")


class AsyncStreamOpener(Generic[StreamT]):
    """What an async ``create_stream(...)`` returns: the request, ready to be sent.

    ``async with opener as stream:`` sends it and closes the stream when the block is
    left; ``stream = await opener`` sends it and hands the stream over (close it with
    ``aclose()``, or read it to the end). Either way the stream is open, its status
    checked and its retries done before the first ``async for`` step. Each ``await`` or
    ``async with`` sends the request once; an opener never used sends nothing.
    """

    __slots__ = ("_send", "_stream", "_stream_type")

    def __init__(
        self,
        send: Callable[[], Awaitable[httpx.Response]],
        stream_type: Callable[[httpx.Response], StreamT],
    ) -> None:
        self._send = send
        self._stream_type = stream_type
        self._stream: StreamT | None = None

    async def _open(self) -> StreamT:
        return self._stream_type(await self._send())

    def __await__(self) -> Generator[Any, None, StreamT]:
        return self._open().__await__()

    async def __aenter__(self) -> StreamT:
        self._stream = stream = await self._open()
        return stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.aclose()

    def __aiter__(self) -> NoReturn:
        # Earlier versions sent the request on the first step (CHANGELOG.md); say how to
        # open the stream rather than leave Python's bare "requires an __aiter__ method".
        raise TypeError(
            "an async stream is opened before it is iterated: `async with "
            "client.completions.create_stream(...) as stream: async for chunk in stream`, "
            "or `async for chunk in await client.completions.create_stream(...)`"
        )


class _ChatView:
    """What a chat stream adds: the accumulated message."""

    _state: ChatStreamState

    @property
    def message(self) -> ChatCompletionMessage:
        """Choice 0's message: content and complete tool calls once the stream has ended."""
        return self._state.message(0)

    @property
    def messages(self) -> dict[int, ChatCompletionMessage]:
        """Every choice's message, per index (for ``n > 1``)."""
        return self._state.messages


class CompletionStream(_SyncStream[CompletionChunk]):
    """A streamed completion: iterate it for :class:`CompletionChunk`; use it as a context
    manager. See :class:`_SyncStream` for when the connection closes."""

    def __init__(self, response: httpx.Response, verifier: SignatureVerifier | None = None) -> None:
        super().__init__(response, StreamState(verifier, _request_id(response, verifier)))


class AsyncCompletionStream(_AsyncStream[CompletionChunk]):
    """The async twin of :class:`CompletionStream`, opened by :class:`AsyncStreamOpener`."""

    def __init__(self, response: httpx.Response, verifier: SignatureVerifier | None = None) -> None:
        super().__init__(response, StreamState(verifier, _request_id(response, verifier)))


class ChatCompletionStream(_ChatView, _SyncStream[ChatCompletionChunk]):
    """A streamed chat completion: iterate it for :class:`ChatCompletionChunk`; after the
    end, ``message`` is the whole answer (text and tool calls) and ``usage`` its usage."""

    _state: ChatStreamState

    def __init__(self, response: httpx.Response, verifier: SignatureVerifier | None = None) -> None:
        super().__init__(response, ChatStreamState(verifier, _request_id(response, verifier)))


class AsyncChatCompletionStream(_ChatView, _AsyncStream[ChatCompletionChunk]):
    """The async twin of :class:`ChatCompletionStream`, opened by :class:`AsyncStreamOpener`."""

    _state: ChatStreamState

    def __init__(self, response: httpx.Response, verifier: SignatureVerifier | None = None) -> None:
        super().__init__(response, ChatStreamState(verifier, _request_id(response, verifier)))


def _request_id(response: httpx.Response, verifier: SignatureVerifier | None) -> str | None:
    # Read only when a signature failure may need it.
    return None if verifier is None else response.headers.get("x-request-id")


def _is_identity(response: httpx.Response) -> bool:
    # Raw bytes skip httpx's decoder chain, which only matters for compressed bodies.
    return response.headers.get("content-encoding", "identity") in ("identity", "")

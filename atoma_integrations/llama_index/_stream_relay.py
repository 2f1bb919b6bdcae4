"""Core streams as LlamaIndex response generators: the one relay of ``Atoma`` and ``AtomaChat``.

Three parts, each written once:

- :func:`relay_stream` / :func:`arelay_stream`: the I/O loops (sync and async), the only
  code that differs between the two; each hands every chunk to a mapper and closes the
  stream however the consumer stops;
- :class:`FinishHoldingMapper`: the finish-and-usage rule both mappers share. Atoma sends the
  usage after the chunk with the ``finish_reason``, so that chunk is held back until the next
  event or the end of the stream, and the final response carries the finish reason, the
  usage and the signature exactly once;
- :func:`converted` / :func:`aconverted`: responses of one kind as the other (chat through
  completions and back), closing the source when closed.

The mappers (``CompletionChunkMapper`` in ``_completion_responses``, ``ChatChunkMapper`` in
``_chat_responses``) are pure: they see chunks, never the connection. The per-token path is
the loop's one ``pending`` check and one ``feed`` call; nothing is allocated per token here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from atoma_integrations._adapters import atoma_extras, usage_counts
from atoma_integrations.types import ChatCompletionChunk, CompletionChunk, Usage

__all__ = [
    "FinishHoldingMapper",
    "aconverted",
    "arelay_stream",
    "choice_zero",
    "converted",
    "relay_stream",
]


class _Indexed(Protocol):
    """A choice of a response or chunk (the position is all this module reads)."""

    @property
    def index(self) -> int: ...


_ChoiceT = TypeVar("_ChoiceT", bound=_Indexed)
# The two kinds of chunk, as constraints: the finish-and-usage rule reads their choices,
# their Atoma extras and copies them, so it is checked against each concrete type.
_ChunkT = TypeVar("_ChunkT", CompletionChunk, ChatCompletionChunk)
_ChunkT_contra = TypeVar("_ChunkT_contra", contravariant=True)
_ResponseT = TypeVar("_ResponseT")
_ResponseT_co = TypeVar("_ResponseT_co", covariant=True)
_In = TypeVar("_In")
_Out = TypeVar("_Out")
_ItemT_co = TypeVar("_ItemT_co", covariant=True)


def choice_zero(choices: Sequence[_ChoiceT]) -> _ChoiceT | None:
    """The choice with index 0, or None.

    Only choice 0 is streamed (n > 1 is refused before the request): a backend that ignores
    that and interleaves other choices does not get them mixed into the answer.
    """
    for choice in choices:
        if choice.index == 0:
            return choice
    return None


class FinishHoldingMapper(Generic[_ChunkT, _ChoiceT, _ResponseT]):
    """Holds the chunk with the ``finish_reason`` back, and builds what the final response
    of a stream carries: the finish reason, the token counts, the signature and the usage.

    The chunk with the ``finish_reason`` is the last or next to last event (Atoma sends the
    usage after it). Held back, it becomes the final response (with the usage) when the
    stream ends there, or an ordinary response (:meth:`release`) when another event follows;
    either way the usage is delivered once, on the final response.

    A subclass maps chunks (``feed``, calling :meth:`hold` for a finish chunk and recording
    ``last``), builds ordinary responses (``_respond``) and the final one (``finish``, from
    :meth:`take_final`).
    """

    __slots__ = ("last", "pending")

    def __init__(self) -> None:
        self.pending: tuple[_ChunkT, _ChoiceT] | None = None
        """The held chunk with the ``finish_reason``, and its choice 0."""
        self.last: _ChunkT | None = None
        """The last chunk with a choice 0: its extras and finish reason go on the final one."""

    def hold(self, chunk: _ChunkT, choice: _ChoiceT) -> None:
        """Hold back ``chunk``, whose ``choice`` has a ``finish_reason``."""
        self.pending = (chunk, choice)

    def release(self) -> _ResponseT:
        """The held chunk, followed by more events: delivered as an ordinary response."""
        held, self.pending = self.pending, None
        if held is None:
            raise RuntimeError("release() without a held chunk")
        return self._respond(*held)

    def _respond(self, chunk: _ChunkT, choice: _ChoiceT) -> _ResponseT:
        raise NotImplementedError

    def take_final(self, usage: Usage | None) -> tuple[_ChoiceT | None, dict[str, Any], Any]:
        """Take the held chunk for the final response: its choice (None when nothing is
        held), the response's ``additional_kwargs`` (the last chunk's Atoma extras and
        ``finish_reason``, the token counts) and its ``raw`` (the last chunk with the usage)."""
        held, self.pending = self.pending, None
        last = held[0] if held is not None else self.last
        extra: dict[str, Any] = {}
        raw: Any = last
        if last is not None:
            extra = atoma_extras(last)
            final_choice = choice_zero(last.choices)
            if final_choice is not None:
                extra["finish_reason"] = final_choice.finish_reason
            if usage is not None:
                raw = last.model_copy(update={"usage": usage})
        extra.update(usage_counts(usage))
        return (held[1] if held is not None else None), extra, raw


class _ResponseMapper(Protocol[_ChunkT_contra, _ResponseT_co]):
    """What the relay needs of a mapper (a :class:`FinishHoldingMapper` subclass)."""

    @property
    def pending(self) -> object | None: ...

    def feed(self, chunk: _ChunkT_contra) -> _ResponseT_co | None: ...

    def release(self) -> _ResponseT_co: ...

    def finish(self, usage: Usage | None) -> _ResponseT_co: ...


class _Chunks(Protocol[_ItemT_co]):
    """An opened sync core stream (``CompletionStream`` / ``ChatCompletionStream``)."""

    @property
    def usage(self) -> Usage | None: ...

    def __iter__(self) -> Iterator[_ItemT_co]: ...

    def close(self) -> None: ...


class _AsyncChunks(Protocol[_ItemT_co]):
    """An opened async core stream (``AsyncCompletionStream`` / ``AsyncChatCompletionStream``)."""

    @property
    def usage(self) -> Usage | None: ...

    def __aiter__(self) -> AsyncIterator[_ItemT_co]: ...

    async def aclose(self) -> None: ...


def relay_stream(
    stream: _Chunks[_In], mapper: _ResponseMapper[_In, _Out]
) -> Generator[_Out, None, None]:
    """The responses of a sync stream, the final one with the usage.

    Closing the generator (a ``break`` in the consumer) closes the stream, which closes the
    connection and tells the server to stop generating.
    """
    try:
        for chunk in stream:
            if mapper.pending is not None:
                yield mapper.release()
            response = mapper.feed(chunk)
            if response is not None:
                yield response
        yield mapper.finish(stream.usage)
    finally:
        stream.close()


async def arelay_stream(
    stream: _AsyncChunks[_In], mapper: _ResponseMapper[_In, _Out]
) -> AsyncGenerator[_Out, None]:
    """The async twin of :func:`relay_stream`: only the I/O loop differs."""
    try:
        async for chunk in stream:
            if mapper.pending is not None:
                yield mapper.release()
            response = mapper.feed(chunk)
            if response is not None:
                yield response
        yield mapper.finish(stream.usage)
    finally:
        await stream.aclose()


def converted(
    responses: Generator[_In, None, None], convert: Callable[[_In], _Out]
) -> Generator[_Out, None, None]:
    """Each response of ``responses`` converted; closing it closes ``responses``."""
    try:
        for response in responses:
            yield convert(response)
    finally:
        responses.close()


async def aconverted(
    responses: AsyncGenerator[_In, None], convert: Callable[[_In], _Out]
) -> AsyncGenerator[_Out, None]:
    """The async twin of :func:`converted`."""
    try:
        async for response in responses:
            yield convert(response)
    finally:
        await responses.aclose()

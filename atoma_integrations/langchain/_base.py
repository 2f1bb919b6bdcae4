"""What ``AtomaLLM`` and ``ChatAtoma`` share: body extras, streaming, identity.

A mixin placed first among each class's bases. Its base, ``_connection.LangChainConnection``
(shared with ``AtomaEmbeddings``), brings the connection settings and their check, and the
``is_lc_serializable`` / ``lc_secrets`` that win over LangChain's defaults. Generation
parameters are not here: they differ per endpoint (``GenerationFields`` /
``ChatGenerationFields`` in ``_adapters``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, ClassVar, Protocol, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk
from pydantic import ConfigDict, Field, model_validator
from typing_extensions import Self

from atoma_integrations._rules import check_extra_body, check_one_answer
from atoma_integrations.langchain._connection import LangChainConnection
from atoma_integrations.langchain._errors import typed_errors
from atoma_integrations.types import Usage

__all__ = ["AtomaLangChainSettings", "arelay_stream", "relay_stream"]

_EventT = TypeVar("_EventT")
_EventT_contra = TypeVar("_EventT_contra", contravariant=True)
_EventT_co = TypeVar("_EventT_co", covariant=True)
_ChunkT = TypeVar("_ChunkT", bound="GenerationChunk | ChatGenerationChunk")
_ChunkT_co = TypeVar("_ChunkT_co", bound="GenerationChunk | ChatGenerationChunk", covariant=True)


class _Mapper(Protocol[_EventT_contra, _ChunkT_co]):
    """Core stream events to LangChain chunks (``CompletionChunkMapper`` / ``ChatChunkMapper``)."""

    def chunk(self, event: _EventT_contra) -> _ChunkT_co | None: ...

    def final(self, usage: Usage | None) -> _ChunkT_co: ...


class _Events(Protocol[_EventT_co]):
    """An opened core stream (``CompletionStream`` / ``ChatCompletionStream``)."""

    @property
    def usage(self) -> Usage | None: ...

    def __iter__(self) -> Iterator[_EventT_co]: ...


class _AsyncEvents(Protocol[_EventT_co]):
    """An opened async core stream (``AsyncCompletionStream`` / ``AsyncChatCompletionStream``)."""

    @property
    def usage(self) -> Usage | None: ...

    def __aiter__(self) -> AsyncIterator[_EventT_co]: ...


class AtomaLangChainSettings(LangChainConnection):
    """Body extras and LangChain identity of an Atoma model, on the shared connection fields."""

    model_config = ConfigDict(use_attribute_docstrings=True, protected_namespaces=())

    # Body fields the class sends itself; model_kwargs may not set them.
    _reserved_body_keys: ClassVar[frozenset[str]] = frozenset()

    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra JSON body fields for backend extras (``top_k``, ``repetition_penalty``, ...)."""
    streaming: bool = False
    """Make ``invoke``/``generate`` stream, so callback handlers receive every token."""

    @model_validator(mode="after")
    def _check_body_extras(self) -> Self:
        """Fail now, naming the field, rather than at the first request (the connection
        settings are checked by ``LangChainConnection``)."""
        if self.streaming:
            check_one_answer(self.__dict__, "a stream")  # the n (and best_of) fields
        check_extra_body(
            self.model_kwargs, self._reserved_body_keys, "model_kwargs", type(self).__name__
        )
        return self

    def _identity(self, model: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """Every setting that changes the output (the cache key); never the key."""
        params: dict[str, Any] = {"model": model}
        params.update((k, v) for k, v in defaults.items() if v is not None)
        if self.model_kwargs:
            params["model_kwargs"] = dict(self.model_kwargs)
        if self.base_url is not None:
            params["base_url"] = self.base_url
        return params


def relay_stream(
    open_stream: Callable[[], AbstractContextManager[_Events[_EventT]]],
    mapper: _Mapper[_EventT, _ChunkT],
    run_manager: CallbackManagerForLLMRun | None,
) -> Generator[_ChunkT, None, None]:
    """The ``_stream`` loop of ``AtomaLLM`` and ``ChatAtoma``: mapped chunks, then the final one.

    ``open_stream`` runs inside ``typed_errors`` so that an error getting the client or
    opening the stream is typed like one in the middle of it.
    """
    with typed_errors():
        # The block closes the HTTP response however the loop ends, including a
        # consumer that stops early (GeneratorExit): the server then stops generating.
        with open_stream() as stream:
            for event in stream:
                chunk = mapper.chunk(event)
                if chunk is None:
                    continue
                if run_manager is not None:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        final = mapper.final(stream.usage)
    if run_manager is not None:
        run_manager.on_llm_new_token(final.text, chunk=final)
    yield final


async def arelay_stream(
    open_stream: Callable[[], AbstractAsyncContextManager[_AsyncEvents[_EventT]]],
    mapper: _Mapper[_EventT, _ChunkT],
    run_manager: AsyncCallbackManagerForLLMRun | None,
) -> AsyncGenerator[_ChunkT, None]:
    """The async twin of ``relay_stream``: only the I/O loop differs."""
    with typed_errors():
        async with open_stream() as stream:
            async for event in stream:
                chunk = mapper.chunk(event)
                if chunk is None:
                    continue
                if run_manager is not None:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        final = mapper.final(stream.usage)
    if run_manager is not None:
        await run_manager.on_llm_new_token(final.text, chunk=final)
    yield final

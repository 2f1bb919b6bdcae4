"""LlamaIndex: ``Atoma``, a ``CustomLLM`` that maps LlamaIndex calls onto the shared client.

It reads like a table from LlamaIndex concepts to client calls:

===============================  ==========================================================
LlamaIndex                       atoma_integrations
===============================  ==========================================================
``complete`` / ``acomplete``     ``completions.create`` on the (async) client
``stream_complete`` / ``a...``   ``completions.create_stream``; one response per chunk
``chat`` family                  ``messages_to_prompt``, then the completion path above
``metadata.context_window``      ``models.context_lengths()`` (Atoma's open_router list)
``CompletionResponse.raw``       the decoded :class:`~atoma_integrations.types.Completion`
===============================  ==========================================================

HTTP, retries, SSE decoding and errors live in the core, once; nothing here sends a
request by itself. Clients are the process-shared ones of ``_adapters``; the async client
is per event loop, and no async method touches the sync client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any, ClassVar

from llama_index.core.base.llms.generic_utils import (
    messages_to_prompt as generic_messages_to_prompt,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    LogProb,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from pydantic import ConfigDict

from atoma_integrations._adapters import (
    RESERVED_BODY_KEYS,
    GenerationFields,
    async_client_for,
    atoma_extras,
    completion_params,
    sync_client_for,
    usage_counts,
)
from atoma_integrations._rules import prepare_stream
from atoma_integrations._streaming import AsyncCompletionStream, CompletionStream
from atoma_integrations.llama_index._base import AtomaLLMBase, aconverted, converted
from atoma_integrations.llama_index._context import DEFAULT_CONTEXT_WINDOW
from atoma_integrations.resources import CompletionParams
from atoma_integrations.types import (
    Completion,
    CompletionChoice,
    CompletionChunk,
    Logprobs,
    Usage,
)

__all__ = ["DEFAULT_CONTEXT_WINDOW", "Atoma"]

logger = logging.getLogger("atoma_integrations.llama_index")


class Atoma(AtomaLLMBase, CustomLLM, GenerationFields):
    """Atoma's text completions (or any OpenAI-compatible ``/v1/completions``) in LlamaIndex.

    Example::

        from llama_index.core import Settings
        from atoma_integrations.llama_index import Atoma

        Settings.llm = Atoma(model="meta-llama/Llama-3.3-70B-Instruct", max_tokens=256)
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    _reserved_body_keys: ClassVar[frozenset[str]] = RESERVED_BODY_KEYS

    @classmethod
    def class_name(cls) -> str:
        """The name LlamaIndex uses for this class in serialization and events."""
        return "Atoma"

    # -- metadata ---------------------------------------------------------------------

    @property
    def metadata(self) -> LLMMetadata:
        """What LlamaIndex's prompt packing needs; may ask the server once for the window."""
        return LLMMetadata(
            context_window=self._context_window(),
            num_output=self.max_tokens,
            is_chat_model=False,
            model_name=self.model,
        )

    def to_payload(self) -> dict[str, Any]:
        """Model details for events and traces: no key, no headers, and no request."""
        return self._payload(
            self.class_name(), self.max_tokens, is_chat_model=False, is_function_calling=False
        )

    # -- requests ---------------------------------------------------------------------

    def _chat_prompt(self, messages: Sequence[ChatMessage]) -> str:
        # LlamaIndex's own format unless the caller gave one: "role: content" lines, then
        # "assistant: " for the model to continue. Pass messages_to_prompt= for a model's
        # own chat template.
        render = self.messages_to_prompt or generic_messages_to_prompt
        return render(messages)

    def _params(self, prompt: str, formatted: bool, kwargs: dict[str, Any]) -> CompletionParams:
        if not formatted and self.completion_to_prompt is not None:
            prompt = self.completion_to_prompt(prompt)
        stop = kwargs.pop("stop", None)
        if isinstance(stop, str):
            stop = [stop]
        defaults = self.generation_defaults()
        return completion_params(
            self.model,
            prompt,
            defaults,
            stop=stop,
            overrides=kwargs,
            extra_body=self.additional_kwargs,
        )

    def _complete(self, prompt: str, formatted: bool, **kwargs: Any) -> CompletionResponse:
        params = self._params(prompt, formatted, kwargs)
        client = sync_client_for(self._client_settings())
        return _completion_response(client.completions.create(**params))

    def _stream_complete(
        self, prompt: str, formatted: bool, **kwargs: Any
    ) -> CompletionResponseGen:
        params = self._params(prompt, formatted, kwargs)
        prepare_stream(params, stream_usage=self.stream_usage)
        client = sync_client_for(self._client_settings())
        # The request is sent now, so HTTP errors surface from this call (and reach the
        # callbacks as the call's error), not from the first ``next()``.
        return _responses(client.completions.create_stream(**params))

    async def _acomplete(self, prompt: str, formatted: bool, **kwargs: Any) -> CompletionResponse:
        params = self._params(prompt, formatted, kwargs)
        client = async_client_for(self._client_settings())
        return _completion_response(await client.completions.create(**params))

    async def _astream_complete(
        self, prompt: str, formatted: bool, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        params = self._params(prompt, formatted, kwargs)
        prepare_stream(params, stream_usage=self.stream_usage)
        client = async_client_for(self._client_settings())
        stream = await client.completions.create_stream(**params)
        return _aresponses(stream)

    # -- LlamaIndex's completion API ----------------------------------------------------

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete ``prompt``; ``formatted=False`` applies ``completion_to_prompt`` first."""
        return self._complete(prompt, formatted, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream a completion: one response per chunk, ``delta`` new and ``text`` so far.

        The last response carries the usage (``raw.usage`` and the token counts in
        ``additional_kwargs``). Closing the generator early closes the connection, which
        tells the server to stop generating.
        """
        return self._stream_complete(prompt, formatted, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`, on the async client of the running event loop."""
        return await self._acomplete(prompt, formatted, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`: ``gen = await llm.astream_complete(p)``.

        A coroutine that returns the async generator (LlamaIndex's callback decorator
        needs that shape); the request is sent before it returns.
        """
        return await self._astream_complete(prompt, formatted, **kwargs)

    # -- chat, through the completion path ------------------------------------------------
    # Each is decorated for chat events and calls the undecorated completion methods, so
    # one chat call fires one event pair and token counters count it once.

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Answer ``messages``, rendered with ``messages_to_prompt``, as a completion."""
        prompt = self._chat_prompt(messages)
        return _chat_response(self._complete(prompt, True, **kwargs))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer to ``messages`` (see :meth:`stream_complete`)."""
        prompt = self._chat_prompt(messages)
        return converted(self._stream_complete(prompt, True, **kwargs), _chat_response)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`, on the async client (never the sync one)."""
        prompt = self._chat_prompt(messages)
        return _chat_response(await self._acomplete(prompt, True, **kwargs))

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`: ``gen = await llm.astream_chat(messages)``."""
        prompt = self._chat_prompt(messages)
        return aconverted(await self._astream_complete(prompt, True, **kwargs), _chat_response)


# -- mapping responses (pure; shared by the sync and async paths) ---------------------------


def _llama_logprobs(logprobs: Logprobs | None) -> list[list[LogProb]] | None:
    """Legacy logprobs as LlamaIndex's per-position lists: the chosen token first, then
    the other alternatives the server returned, most likely first."""
    if logprobs is None:
        return None
    tops = logprobs.top_logprobs or []
    positions: list[list[LogProb]] = []
    for i, token in enumerate(logprobs.tokens):
        chosen = logprobs.token_logprobs[i] if i < len(logprobs.token_logprobs) else None
        entries: list[LogProb] = []
        if chosen is not None:
            entries.append(LogProb(token=token, logprob=chosen, bytes=list(token.encode())))
        alternatives = tops[i] if i < len(tops) else None
        if alternatives:
            for alt, value in sorted(alternatives.items(), key=lambda kv: -kv[1]):
                if alt != token or chosen is None:
                    entries.append(LogProb(token=alt, logprob=value, bytes=list(alt.encode())))
        positions.append(entries)
    return positions


def _choice_zero(choices: list[CompletionChoice]) -> CompletionChoice | None:
    # Only choice 0 is streamed (n > 1 is refused before the request): a backend that
    # ignores that and interleaves other choices does not get them mixed into the text.
    for choice in choices:
        if choice.index == 0:
            return choice
    return None


def _first_choice(choices: list[CompletionChoice]) -> CompletionChoice | None:
    return _choice_zero(choices) or (choices[0] if choices else None)


def _completion_response(completion: Completion) -> CompletionResponse:
    """A whole completion as LlamaIndex's response; ``raw`` is the decoded body."""
    choice = _first_choice(completion.choices)
    extra = atoma_extras(completion)
    if choice is not None:
        extra["finish_reason"] = choice.finish_reason
    extra.update(usage_counts(completion.usage))
    if len(completion.choices) > 1:
        ordered = sorted(completion.choices, key=lambda c: c.index)
        extra["texts"] = [c.text for c in ordered]
    return CompletionResponse(
        text=choice.text if choice is not None else "",
        raw=completion,
        logprobs=_llama_logprobs(choice.logprobs) if choice is not None else None,
        additional_kwargs=extra,
    )


class _StreamMapper:
    """Turns stream chunks into responses; the chunk with the finish_reason is held back
    until the stream ends (it is the last or next to last event) so that the final
    response carries the usage, which Atoma sends after it, exactly once."""

    __slots__ = ("_last", "pending", "text")

    def __init__(self) -> None:
        self.text = ""
        self.pending: CompletionChunk | None = None
        self._last: CompletionChunk | None = None

    def feed(self, chunk: CompletionChunk) -> CompletionResponse | None:
        """The response for ``chunk``, or None (no text yet, or held back)."""
        choice = _choice_zero(chunk.choices)
        if choice is None:
            return None
        self._last = chunk
        if choice.finish_reason is not None:
            self.pending = chunk
            return None
        if not choice.text and choice.logprobs is None:
            return None
        return self._respond(chunk, choice)

    def release(self) -> CompletionResponse | None:
        """A held chunk followed by more events: deliver it as an ordinary response."""
        chunk, self.pending = self.pending, None
        choice = _choice_zero(chunk.choices) if chunk is not None else None
        if chunk is None or choice is None:
            return None
        return self._respond(chunk, choice)

    def finish(self, usage: Usage | None) -> CompletionResponse:
        """The final response: the held chunk (or an empty delta) with the usage."""
        chunk, self.pending = self.pending, None
        choice = _choice_zero(chunk.choices) if chunk is not None else None
        delta = choice.text if choice is not None else ""
        self.text += delta
        last = chunk or self._last
        extra: dict[str, Any] = atoma_extras(last) if last is not None else {}
        final_choice = _choice_zero(last.choices) if last is not None else None
        if final_choice is not None:
            extra["finish_reason"] = final_choice.finish_reason
        extra.update(usage_counts(usage))
        raw: Any = last
        if last is not None and usage is not None:
            raw = last.model_copy(update={"usage": usage})
        return CompletionResponse(
            text=self.text,
            delta=delta,
            raw=raw,
            logprobs=_llama_logprobs(choice.logprobs) if choice is not None else None,
            additional_kwargs=extra,
        )

    def _respond(self, chunk: CompletionChunk, choice: CompletionChoice) -> CompletionResponse:
        # Runs once per token: arguments left at their defaults are not passed, which
        # saves pydantic a little work on every chunk of a plain stream.
        delta = choice.text
        self.text += delta
        signature = atoma_extras(chunk)
        if choice.logprobs is None:
            if not signature:
                return CompletionResponse(text=self.text, delta=delta, raw=chunk)
            return CompletionResponse(
                text=self.text, delta=delta, raw=chunk, additional_kwargs=signature
            )
        return CompletionResponse(
            text=self.text,
            delta=delta,
            raw=chunk,
            logprobs=_llama_logprobs(choice.logprobs),
            additional_kwargs=signature,
        )


def _responses(stream: CompletionStream) -> Generator[CompletionResponse, None, None]:
    mapper = _StreamMapper()
    try:
        for chunk in stream:
            if mapper.pending is not None:
                held = mapper.release()
                if held is not None:
                    yield held
            response = mapper.feed(chunk)
            if response is not None:
                yield response
        yield mapper.finish(stream.usage)
    finally:
        # Reached on a break too (the generator is closed): the server stops generating.
        stream.close()


async def _aresponses(stream: AsyncCompletionStream) -> AsyncGenerator[CompletionResponse, None]:
    mapper = _StreamMapper()
    try:
        async for chunk in stream:
            if mapper.pending is not None:
                held = mapper.release()
                if held is not None:
                    yield held
            response = mapper.feed(chunk)
            if response is not None:
                yield response
        yield mapper.finish(stream.usage)
    finally:
        await stream.aclose()


def _chat_response(completion: CompletionResponse) -> ChatResponse:
    """LlamaIndex's completion-to-chat conversion, keeping ``logprobs`` and ``delta``."""
    return ChatResponse(
        message=ChatMessage(
            role=MessageRole.ASSISTANT,
            content=completion.text,
            additional_kwargs=completion.additional_kwargs,
        ),
        raw=completion.raw,
        delta=completion.delta,
        logprobs=completion.logprobs,
        additional_kwargs=completion.additional_kwargs,
    )

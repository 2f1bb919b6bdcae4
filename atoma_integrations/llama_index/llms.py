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
from collections.abc import Sequence
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
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from pydantic import ConfigDict

from atoma_integrations._adapters import (
    RESERVED_BODY_KEYS,
    GenerationFields,
    async_client_for,
    completion_params,
    sync_client_for,
)
from atoma_integrations._rules import prepare_stream
from atoma_integrations.llama_index._base import AtomaLLMBase
from atoma_integrations.llama_index._completion_responses import (
    CompletionChunkMapper,
    as_chat_response,
    completion_response,
)
from atoma_integrations.llama_index._context import DEFAULT_CONTEXT_WINDOW
from atoma_integrations.llama_index._stream_relay import (
    aconverted,
    arelay_stream,
    converted,
    relay_stream,
)
from atoma_integrations.resources import CompletionParams

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
        return completion_response(client.completions.create(**params))

    def _stream_complete(
        self, prompt: str, formatted: bool, **kwargs: Any
    ) -> CompletionResponseGen:
        params = self._params(prompt, formatted, kwargs)
        prepare_stream(params, stream_usage=self.stream_usage)
        client = sync_client_for(self._client_settings())
        # The request is sent now, so HTTP errors surface from this call (and reach the
        # callbacks as the call's error), not from the first ``next()``.
        return relay_stream(client.completions.create_stream(**params), CompletionChunkMapper())

    async def _acomplete(self, prompt: str, formatted: bool, **kwargs: Any) -> CompletionResponse:
        params = self._params(prompt, formatted, kwargs)
        client = async_client_for(self._client_settings())
        return completion_response(await client.completions.create(**params))

    async def _astream_complete(
        self, prompt: str, formatted: bool, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        params = self._params(prompt, formatted, kwargs)
        prepare_stream(params, stream_usage=self.stream_usage)
        client = async_client_for(self._client_settings())
        stream = await client.completions.create_stream(**params)
        return arelay_stream(stream, CompletionChunkMapper())

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
        return as_chat_response(self._complete(prompt, True, **kwargs))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer to ``messages`` (see :meth:`stream_complete`)."""
        prompt = self._chat_prompt(messages)
        return converted(self._stream_complete(prompt, True, **kwargs), as_chat_response)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`, on the async client (never the sync one)."""
        prompt = self._chat_prompt(messages)
        return as_chat_response(await self._acomplete(prompt, True, **kwargs))

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`: ``gen = await llm.astream_chat(messages)``."""
        prompt = self._chat_prompt(messages)
        return aconverted(await self._astream_complete(prompt, True, **kwargs), as_chat_response)

"""LlamaIndex: ``AtomaChat``, a ``FunctionCallingLLM`` on the client's chat completions.

It reads like a table from LlamaIndex concepts to client calls:

====================================  ======================================================
LlamaIndex                            atoma_integrations
====================================  ======================================================
``chat`` / ``achat``                  ``chat.completions.create`` on the (async) client
``stream_chat`` / ``astream_chat``    ``chat.completions.create_stream``; one response per
                                      chunk, partial tool calls in the message
``complete`` family                   the chat path above, with the prompt as a user message
``chat_with_tools`` (and the rest of  ``tools``, ``tool_choice`` (a "required" choice with
FunctionCallingLLM)                   one tool sent as the named choice: the core's rule),
                                      ``parallel_tool_calls``
``get_tool_calls_from_response``      the message's tool calls, arguments parsed as JSON
``structured_predict``                LlamaIndex's function-calling program: one tool, named
``metadata.context_window``           ``models.context_lengths()`` (Atoma's open_router list)
``ChatResponse.raw``                  the decoded :class:`~atoma_integrations.ChatCompletion`
reasoning (``ThinkingBlock``)         the model's reasoning: first block of the answer,
                                      and each streamed piece; sent back in history only
                                      with ``send_reasoning``; ``reasoning_effort``
``ImageBlock``                        an ``image_url`` part (URL, or a base64 data URL)
====================================  ======================================================

HTTP, retries, SSE decoding, tool-call merging and errors live in the core, once; nothing
here sends a request by itself. Clients are the process-shared ones of ``_adapters``; the
async client is per event loop, and no async method touches the sync client.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from llama_index.core.base.llms.generic_utils import prompt_to_messages
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.program.function_program import FunctionCallingProgram, get_function_tool
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import Model, PydanticProgramMode
from pydantic import BaseModel, ConfigDict

from atoma_integrations._adapters import (
    CHAT_CALL_FIELDS,
    CHAT_RESERVED_BODY_KEYS,
    ChatGenerationFields,
    async_client_for,
    chat_params,
    sync_client_for,
)
from atoma_integrations._profiles import chat_model_profile
from atoma_integrations._rules import prepare_stream
from atoma_integrations._tools import named_tool_choice, resolve_tool_choice
from atoma_integrations.llama_index._base import AtomaLLMBase
from atoma_integrations.llama_index._chat_responses import (
    ChatChunkMapper,
    as_completion_response,
    chat_response,
    single_tool_call,
    tool_selections,
)
from atoma_integrations.llama_index._messages import (
    llama_tool_choice,
    to_message_dicts,
    tool_specs,
)
from atoma_integrations.llama_index._stream_relay import (
    aconverted,
    arelay_stream,
    converted,
    relay_stream,
)
from atoma_integrations.resources import ChatCompletionParams

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = ["AtomaChat"]


class AtomaChat(AtomaLLMBase, FunctionCallingLLM, ChatGenerationFields):
    """Atoma's chat completions (or any OpenAI-compatible ``/v1/chat/completions``) in
    LlamaIndex, with tools, structured output and agents.

    Example::

        from llama_index.core.agent.workflow import FunctionAgent
        from atoma_integrations.llama_index import AtomaChat

        llm = AtomaChat(model="meta-llama/Llama-3.3-70B-Instruct", max_tokens=512)
        agent = FunctionAgent(tools=[multiply], llm=llm)
        print(await agent.run("What is 6 times 7?"))
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    # Tools and structured output are per-call arguments (chat_with_tools, structured_predict),
    # validated as request fields, never extra body.
    _reserved_body_keys: ClassVar[frozenset[str]] = CHAT_RESERVED_BODY_KEYS | CHAT_CALL_FIELDS

    send_reasoning: bool = False
    """Send the reasoning of earlier answers (their ``ThinkingBlock``) back with the history,
    as each assistant message's ``reasoning``, for models that think across tool calls
    (gpt-oss, Kimi, MiniMax). Off by default: it costs tokens and other models ignore it.
    Also a per-call keyword: ``llm.chat(messages, send_reasoning=True)``."""

    @classmethod
    def class_name(cls) -> str:
        """The name LlamaIndex uses for this class in serialization and events."""
        return "AtomaChat"

    # -- metadata ---------------------------------------------------------------------

    @property
    def metadata(self) -> LLMMetadata:
        """What LlamaIndex's prompt packing and agents need; may ask the server once."""
        return LLMMetadata(
            context_window=self._context_window(),
            num_output=self.max_tokens,
            is_chat_model=True,
            is_function_calling_model=self._calls_tools(),
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    def to_payload(self) -> dict[str, Any]:
        """Model details for events and traces: no key, no headers, and no request."""
        return self._payload(
            self.class_name(),
            self.max_tokens,
            is_chat_model=True,
            is_function_calling=self._calls_tools(),
        )

    def _calls_tools(self) -> bool:
        """False only for a model Atoma documents without tool calling (others may call)."""
        profile = chat_model_profile(self.model)
        return profile is None or profile.tool_calling

    # -- requests ---------------------------------------------------------------------

    def _params(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], *, stream: bool
    ) -> ChatCompletionParams:
        send_reasoning = bool(kwargs.pop("send_reasoning", self.send_reasoning))
        params = chat_params(
            self.model,
            to_message_dicts(messages, send_reasoning=send_reasoning),
            self.generation_defaults(),
            overrides=kwargs,
            extra_body=self.additional_kwargs,
        )
        if stream:
            prepare_stream(params, stream_usage=self.stream_usage)
        return params

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        params = self._params(messages, kwargs, stream=False)
        client = sync_client_for(self._client_settings())
        return chat_response(client.chat.completions.create(**params))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        params = self._params(messages, kwargs, stream=True)
        client = sync_client_for(self._client_settings())
        # The request is sent now, so HTTP errors surface from this call (and reach the
        # callbacks as the call's error), not from the first ``next()``.
        stream = client.chat.completions.create_stream(**params)
        return relay_stream(stream, ChatChunkMapper(stream))

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        params = self._params(messages, kwargs, stream=False)
        client = async_client_for(self._client_settings())
        return chat_response(await client.chat.completions.create(**params))

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        params = self._params(messages, kwargs, stream=True)
        client = async_client_for(self._client_settings())
        stream = await client.chat.completions.create_stream(**params)
        return arelay_stream(stream, ChatChunkMapper(stream))

    # -- LlamaIndex's chat API ---------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Answer ``messages``; keyword arguments override the fields for this call."""
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer: one response per chunk, ``delta`` new and ``message`` so far.

        Tool calls arrive in the message too, their arguments growing. The last response
        carries the whole message, the usage (``raw.usage`` and the token counts in
        ``additional_kwargs``) and the finish reason. Closing the generator early closes the
        connection, which tells the server to stop generating.
        """
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`, on the async client of the running event loop."""
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`: ``gen = await llm.astream_chat(messages)``.

        A coroutine that returns the async generator (LlamaIndex's callback decorator
        needs that shape); the request is sent before it returns.
        """
        return await self._astream_chat(messages, **kwargs)

    # -- completions, through chat -------------------------------------------------------
    # Each is decorated for completion events and calls the undecorated chat methods, so
    # one call fires one event pair and token counters count it once.

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Answer ``prompt`` sent as one user message."""
        return as_completion_response(self._chat(prompt_to_messages(prompt), **kwargs))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream the answer to ``prompt`` sent as one user message."""
        responses = self._stream_chat(prompt_to_messages(prompt), **kwargs)
        return converted(responses, as_completion_response)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`, on the async client."""
        return as_completion_response(await self._achat(prompt_to_messages(prompt), **kwargs))

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`: ``gen = await llm.astream_complete(prompt)``."""
        responses = await self._astream_chat(prompt_to_messages(prompt), **kwargs)
        return aconverted(responses, as_completion_response)

    # -- tools -------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` arguments for a call with ``tools``.

        ``tool_choice`` is LlamaIndex's: None (then "required" if ``tool_required``, else
        "auto"), "auto", "none", "required", a tool's name or OpenAI's dict. "required"
        with a single tool is sent as the named choice (the core's rule: same meaning, and
        llama.cpp refuses "required").
        """
        specs = tool_specs(tools)
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        messages = list(chat_history or [])
        if user_msg is not None:
            messages.append(user_msg)
        chat_kwargs: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            chat_kwargs["tools"] = specs
            chat_kwargs["tool_choice"] = resolve_tool_choice(
                llama_tool_choice(tool_choice, tool_required), specs
            )
            chat_kwargs["parallel_tool_calls"] = allow_parallel_tool_calls
        return chat_kwargs

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """One tool call unless parallel calls are allowed (the others are logged)."""
        return single_tool_call(response, allow_parallel_tool_calls)

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The tool calls of ``response`` with their arguments parsed.

        Raises ``ValueError`` when there is none, or when a call's arguments are not a JSON
        object, naming the tool; with ``error_on_no_tool_call=False`` those give ``[]`` /
        are left out (with a warning). A streamed response still arriving has its calls'
        arguments parsed as partial JSON.
        """
        return tool_selections(response, error_on_no_tool_call)

    # -- structured output ---------------------------------------------------------------
    # structured_predict and as_structured_llm use LlamaIndex's function-calling program,
    # which asks for its one tool with tool_required (sent as the named choice). Its
    # streaming variant asks with no choice at all ("auto", where a model may answer in
    # text); here it names the tool, so streamed structured output gets the call too.

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Any, None, None]:
        program = self._streaming_program(output_cls, prompt)
        if program is None:
            return super()._structured_stream_call(output_cls, prompt, llm_kwargs, **prompt_args)
        return program.stream_call(llm_kwargs=llm_kwargs, **prompt_args)

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Any, None]:
        program = self._streaming_program(output_cls, prompt)
        if program is None:
            return await super()._structured_astream_call(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
        return await program.astream_call(llm_kwargs=llm_kwargs, **prompt_args)

    def _streaming_program(
        self, output_cls: type[BaseModel], prompt: PromptTemplate
    ) -> FunctionCallingProgram[Any] | None:
        if self.pydantic_program_mode not in (
            PydanticProgramMode.DEFAULT,
            PydanticProgramMode.FUNCTION,
        ):
            return None
        name = tool_specs([get_function_tool(output_cls)])[0]["function"]["name"]
        return FunctionCallingProgram.from_defaults(
            output_cls=output_cls,
            llm=self,
            prompt=prompt,
            tool_choice=named_tool_choice(name),
        )

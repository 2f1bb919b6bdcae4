"""LangChain: ``ChatAtoma``, Atoma's chat completions as a ``BaseChatModel``.

The class is a table from LangChain concepts to calls on the shared client; HTTP,
retries, SSE, tool-call merging and error mapping live once, in the core:

=====================================  ===============================================
LangChain                              here
=====================================  ===============================================
``invoke`` / ``generate``              ``_generate``: one ``chat.completions.create``
``ainvoke`` / ``agenerate``            ``_agenerate``: the same on ``AsyncAtomaClient``
``stream`` / ``astream``               ``_stream`` / ``_astream``:
                                       ``chat.completions.create_stream``; LangChain fires
                                       ``on_llm_new_token`` before each chunk is yielded
``batch`` / ``abatch``                 at most ``max_concurrency`` (8) conversations at once
messages                               OpenAI's shapes; tool calls and tool results,
                                       images (``image`` / ``image_url`` blocks); earlier
                                       answers (v0 or v1) as text plus tool calls
reasoning                              ``additional_kwargs["reasoning_content"]``, one
                                       chunk per streamed piece; sent back in history only
                                       with ``send_reasoning``; ``reasoning_effort``
``bind_tools(tools, tool_choice=)``    ``tools`` / ``tool_choice`` request fields; "any"
                                       with one tool is sent as the named choice
``AIMessage.tool_calls``               parsed from the answer; arguments that are not JSON
                                       land in ``invalid_tool_calls``
``AIMessageChunk.tool_call_chunks``    the stream's tool-call pieces (id, name once)
``with_structured_output``             ``json_schema`` (``response_format``),
                                       ``function_calling`` (a forced tool call) or
                                       ``json_mode`` (``json_object``, with the schema)
``profile``                            the package's table of Atoma's documented models
``get_num_tokens(_from_messages)``     LangChain's approximate count (no ``transformers``)
``usage_metadata``                     the server's usage; in a stream, on the final chunk
                                       (``stream_usage`` asks for it with ``stream_options``)
``response_metadata``                  ``finish_reason``, ``model_name``, Atoma's
                                       ``response_hash`` / ``signature``
errors                                 the core's typed errors, also LangChain's
                                       ``Model*Error`` types
``dumpd`` / ``load`` / pickle          the key travels as a secret reference
=====================================  ===============================================
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from operator import itemgetter
from typing import Any, ClassVar, Literal, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
)
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import ConfigDict

from atoma_integrations._adapters import (
    CHAT_RESERVED_BODY_KEYS,
    ChatGenerationFields,
    async_client_for,
    chat_params,
    sum_usage_counts,
    sync_client_for,
)
from atoma_integrations._rules import prepare_stream
from atoma_integrations._tools import resolve_tool_choice
from atoma_integrations.langchain._base import AtomaLangChainSettings, arelay_stream, relay_stream
from atoma_integrations.langchain._chat_chunks import PROVIDER, ChatChunkMapper, chat_result
from atoma_integrations.langchain._chat_messages import wire_messages
from atoma_integrations.langchain._errors import typed_errors
from atoma_integrations.langchain._profile import (
    approximate_text_token_count,
    approximate_token_count,
    langchain_profile,
)
from atoma_integrations.resources import ChatCompletionParams

__all__ = ["ChatAtoma"]

_METHODS = ("json_schema", "function_calling", "json_mode")

# ---------------------------------------------------------------------------------------
# Structured output: what to bind and how to parse, per method.
# ---------------------------------------------------------------------------------------


def _schema_name(schema: Mapping[str, Any]) -> str:
    """A name the API accepts (``[a-zA-Z0-9_-]{1,64}``) from a JSON schema's title."""
    title = str(schema.get("title") or "response")
    return re.sub(r"[^a-zA-Z0-9_-]", "_", title)[:64] or "response"


def _json_parser(schema: Any) -> Runnable[Any, Any]:
    if isinstance(schema, type) and is_basemodel_subclass(schema):
        return PydanticOutputParser(pydantic_object=schema)
    return JsonOutputParser()


# ---------------------------------------------------------------------------------------
# The chat model.
# ---------------------------------------------------------------------------------------


class ChatAtoma(AtomaLangChainSettings, BaseChatModel, ChatGenerationFields):
    """Atoma's hosted open models (or any OpenAI-compatible ``/v1/chat/completions``) as a
    LangChain chat model, with tools and structured output.

    Example:
        ```python
        from pydantic import BaseModel
        from atoma_integrations.langchain import ChatAtoma

        llm = ChatAtoma(model="meta-llama/Llama-3.3-70B-Instruct", max_tokens=256)
        llm.invoke("Say hello in French").content

        def get_weather(city: str) -> str:
            \"\"\"Weather in a city.\"\"\"
            return "sunny"

        llm.bind_tools([get_weather], tool_choice="any").invoke("Weather in Paris?").tool_calls

        class City(BaseModel):
            name: str
            country: str

        llm.with_structured_output(City).invoke("The capital of France")
        ```

    The key comes from ``api_key``, else from ``ATOMA_API_KEY`` / ``ATOMASDK_BEARER_AUTH``
    when the server is the Atoma cloud or ``ATOMA_BASE_URL``. Generation parameters have
    the client's names and ranges and are checked when the object is built.
    """

    # pydantic < 2.10 reserves every "model_" name; model_kwargs is LangChain's convention.
    model_config = ConfigDict(protected_namespaces=())

    _reserved_body_keys: ClassVar[frozenset[str]] = CHAT_RESERVED_BODY_KEYS

    send_reasoning: bool = False
    """Send the reasoning of earlier answers back with the history (as each assistant
    message's ``reasoning``), for models that think across tool calls (gpt-oss, Kimi,
    MiniMax). Off by default: other models ignore it or refuse it, and it costs tokens.
    Also a per-call keyword: ``llm.invoke(messages, send_reasoning=True)``."""

    # --- LangChain identity, tracing ----------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "atoma-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """Every setting that changes the output (the cache key); never the key."""
        identity = self._identity(self.model, self.generation_defaults())
        if self.send_reasoning:
            identity["send_reasoning"] = True
        return identity

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = PROVIDER
        model = kwargs.get("model")
        params["ls_model_name"] = model if isinstance(model, str) else self.model
        params["ls_max_tokens"] = kwargs.get("max_tokens", self.max_tokens)
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        effective_stop = stop if stop is not None else self.stop
        if effective_stop:
            params["ls_stop"] = list(effective_stop)
        return params

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        """``generate`` over several conversations: token usage added up."""
        outputs = [o for o in llm_outputs if o]
        return {
            "token_usage": sum_usage_counts([o.get("token_usage") or {} for o in outputs]),
            "model_name": next(
                (o["model_name"] for o in outputs if o.get("model_name")), self.model
            ),
        }

    # --- profile and token counts (no request, no tokenizer) --------------------------

    def _resolve_model_profile(self) -> ModelProfile | None:
        """The profile of a model id Atoma documents; None for others (pass ``profile=``)."""
        return langchain_profile(self.model)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """About how many prompt tokens ``messages`` and ``tools`` take (LangChain's
        approximate counter: the base class's needs ``transformers``)."""
        return approximate_token_count(messages, tools)

    def get_num_tokens(self, text: str) -> int:
        """About how many tokens ``text`` takes, counted as ``get_num_tokens_from_messages``
        counts (the base class's count needs ``transformers``); ``custom_get_token_ids``,
        when set, counts instead."""
        if self.custom_get_token_ids is not None:
            return super().get_num_tokens(text)
        return approximate_text_token_count(text)

    # --- requests ------------------------------------------------------------------------

    def _params(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> ChatCompletionParams:
        send_reasoning = self.send_reasoning
        if "send_reasoning" in kwargs:
            kwargs = dict(kwargs)
            send_reasoning = bool(kwargs.pop("send_reasoning"))
        return chat_params(
            self.model,
            wire_messages(messages, send_reasoning=send_reasoning),
            self.generation_defaults(),
            stop=stop,
            overrides=kwargs,
            extra_body=self.model_kwargs,
        )

    def _stream_params(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> ChatCompletionParams:
        kwargs = dict(kwargs)
        stream_usage = kwargs.pop("stream_usage", self.stream_usage)
        params = self._params(messages, stop, kwargs)
        prepare_stream(params, stream_usage=stream_usage)
        return params

    # --- sync ----------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        params = self._params(messages, stop, kwargs)
        with typed_errors():
            completion = sync_client_for(self._settings()).chat.completions.create(**params)
        return chat_result(completion, self.model)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        params = self._stream_params(messages, stop, kwargs)
        yield from relay_stream(
            lambda: sync_client_for(self._settings()).chat.completions.create_stream(**params),
            ChatChunkMapper(self.model),
            run_manager,
        )

    # --- async ---------------------------------------------------------------------------

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        params = self._params(messages, stop, kwargs)
        with typed_errors():
            client = async_client_for(self._settings())
            completion = await client.chat.completions.create(**params)
        return chat_result(completion, self.model)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        params = self._stream_params(messages, stop, kwargs)
        # aclosing: an early-exiting consumer closes the relay (and so the HTTP response)
        # now, not when the event loop gets round to finalizing it.
        async with aclosing(
            arelay_stream(
                lambda: async_client_for(self._settings()).chat.completions.create_stream(**params),
                ChatChunkMapper(self.model),
                run_manager,
            )
        ) as chunks:
            async for chunk in chunks:
                yield chunk

    # --- batch ---------------------------------------------------------------------------

    def _bounded(self, config: RunnableConfig | list[RunnableConfig] | None) -> Any:
        """``config`` with ``max_concurrency`` defaulting to this model's (8)."""
        if isinstance(config, list):
            return [self._bounded(c) for c in config]
        bounded = dict(config or {})
        bounded.setdefault("max_concurrency", self.max_concurrency)
        return bounded

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """One request per input, at most ``max_concurrency`` in flight."""
        return super().batch(
            inputs, self._bounded(config), return_exceptions=return_exceptions, **kwargs
        )

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """The async twin of :meth:`batch` (no threads)."""
        return await super().abatch(
            inputs, self._bounded(config), return_exceptions=return_exceptions, **kwargs
        )

    # --- tools and structured output --------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Let the model call ``tools`` (LangChain tools, pydantic models, functions, dicts).

        ``tool_choice``: "auto", "none", "any"/"required"/True (must call one; with a
        single tool sent as that tool's named choice), or a tool's name. A name that is not
        among ``tools`` fails here, before any request.
        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        choice = resolve_tool_choice(tool_choice, formatted)
        if not formatted:
            # No tools (create_agent's structured output without tools): nothing about tools
            # is sent; the endpoint refuses an empty list. A choice that needs a tool failed above.
            return super().bind(**kwargs)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Answers parsed into ``schema`` (a pydantic class, a TypedDict or a JSON schema).

        ``method``: "json_schema" (``response_format`` json_schema, Atoma's vLLM), or
        "function_calling" (a forced call of a tool made from the schema), or "json_mode"
        (``json_object``; the schema is sent beside it, which vLLM ignores and llama.cpp
        enforces). Pydantic schemas give instances, others dicts. With ``include_raw``
        the result is ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``.
        """
        if kwargs:
            raise ValueError(f"unexpected arguments: {sorted(kwargs)}")
        if method not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
        if schema is None and method != "json_mode":
            raise ValueError(f"method={method!r} needs a schema (json_mode alone does not)")
        trace = {"kwargs": {"method": method, "strict": strict}}
        llm: Runnable[LanguageModelInput, Any]
        parser: Runnable[Any, Any]
        if method == "function_calling":
            tool = convert_to_openai_tool(cast("Any", schema), strict=strict)
            name = tool["function"]["name"]
            llm = self.bind_tools(
                [cast("Any", schema)],
                tool_choice=name,
                strict=strict,
                ls_structured_output_format={**trace, "schema": tool},
            )
            if isinstance(schema, type) and is_basemodel_subclass(schema):
                parser = PydanticToolsParser(tools=[schema], first_tool_only=True)
            else:
                parser = JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        else:
            json_schema = convert_to_json_schema(cast("Any", schema)) if schema else None
            response_format: dict[str, Any]
            if method == "json_mode":
                response_format = {"type": "json_object"}
                if json_schema is not None:
                    response_format["schema"] = json_schema
            else:
                assert json_schema is not None
                spec: dict[str, Any] = {"name": _schema_name(json_schema), "schema": json_schema}
                if json_schema.get("description"):
                    spec["description"] = json_schema["description"]
                if strict is not None:
                    spec["strict"] = strict
                response_format = {"type": "json_schema", "json_schema": spec}
            llm = self.bind(
                response_format=response_format,
                ls_structured_output_format={**trace, "schema": json_schema},
            )
            parser = _json_parser(schema)
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        unparsed = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks(
            [unparsed], exception_key="parsing_error"
        )

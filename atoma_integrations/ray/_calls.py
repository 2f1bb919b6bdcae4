"""One row's request: turn a client or an adapter into an async call per input value.

A *source* is what the user built on the driver: ``AtomaClient`` / ``AsyncAtomaClient``
(then the model and generation parameters are given to the column class), or one of the
adapters (which carry their own model and parameters). Each source kind maps to one small
function here that sends one request and returns the row's value and the request's usage.
Adapters are called through their own public async API, so a row gets exactly what
``ainvoke`` / ``acomplete`` would return; no framework is imported here (an adapter's
module is already loaded when one of its objects exists).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import sys
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

from atoma_integrations import _registry
from atoma_integrations._client import AsyncAtomaClient, AtomaClient
from atoma_integrations._rules import check_one_answer
from atoma_integrations.resources import (
    ChatCompletionParams,
    CompletionParams,
    EmbeddingParams,
    build_chat_body,
    build_completion_body,
    build_embedding_body,
)

__all__ = [
    "Counts",
    "RowCall",
    "RowResult",
    "RowsCall",
    "chat_call",
    "close_clients_at_exit",
    "completion_call",
    "counts",
    "embedding_call",
    "is_client",
    "is_instance_of",
    "one_row_per_request",
]


Counts: TypeAlias = "tuple[int, int, int] | None"
"""A request's ``(prompt_tokens, completion_tokens, total_tokens)``; None when unknown."""


@dataclass(frozen=True)
class RowResult:
    """What one row's request produced."""

    value: Any
    """The row's result (generated text, message content, vector)."""
    usage: Counts
    """Token counts of the row's request, or None when the server sent none."""
    signer: str | None = None
    """The Sui address whose signature the row's answer passed; None when the source does
    not verify signatures (or, for the embedding adapters, does not report it)."""


def counts(usage: Any) -> Counts:
    """Counts from any usage object (``Usage``, ``EmbeddingUsage``) or mapping of them."""
    if usage is None:
        return None
    names = ("prompt_tokens", "completion_tokens", "total_tokens")
    if isinstance(usage, Mapping):
        prompt, completion, total = (usage.get(name) for name in names)
    else:
        prompt, completion, total = (getattr(usage, name, None) for name in names)
    if prompt is None and total is None:
        return None
    return (int(prompt or 0), int(completion or 0), int(total or 0))


RowCall: TypeAlias = Callable[[Any], Awaitable[RowResult]]
"""One request for one row's value."""
RowsCall: TypeAlias = Callable[[list[Any]], Awaitable[list[RowResult]]]
"""One request for several rows' values (embeddings send many inputs per request)."""


def one_row_per_request(call: RowCall) -> RowsCall:
    """A :data:`RowsCall` for requests that take one row each (completions, chat)."""

    async def rows(values: list[Any]) -> list[RowResult]:
        return [await call(value) for value in values]

    return rows


def is_instance_of(obj: object, module: str, name: str) -> bool:
    """``isinstance(obj, module.name)`` without importing ``module``.

    An object of a class from an adapter module can only exist once that module is loaded,
    so a module that is not loaded means "no"; the frameworks stay unimported otherwise.
    """
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(cls, type) and isinstance(obj, cls)


def is_client(source: object) -> bool:
    """True for the core clients (which need the model and parameters given separately)."""
    return isinstance(source, (AtomaClient, AsyncAtomaClient))


# Every client a column made in this process, with its loop: closed at interpreter exit.
_clients: weakref.WeakKeyDictionary[AsyncAtomaClient, asyncio.AbstractEventLoop] = (
    weakref.WeakKeyDictionary()
)
_EXIT_CLOSE_TIMEOUT = 5.0
_exit_hook_registered = False


def _close_clients_at_exit() -> None:
    """Close the column clients whose event loop still runs in another thread.

    A Ray actor's async calls run on a loop in a thread of its own that is never shut down,
    so the client's own "close with the loop" never happens, and the worker's exit would
    print aiohttp's "Unclosed client session". At exit that thread still runs (Ray's loop
    thread is a daemon), so the close is handed to it and awaited here, briefly.
    """
    open_clients = [*_clients.items(), *_registry.async_clients()]  # columns', adapters'
    for client, loop in open_clients:
        if client.is_closed or loop.is_closed() or not loop.is_running():
            continue  # a loop that is not running is closed by the client's own exit hook
        if asyncio._get_running_loop() is loop:
            continue  # exiting from inside that loop: waiting on it here would hang
        with contextlib.suppress(Exception):  # exiting anyway: never fail the exit
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(_EXIT_CLOSE_TIMEOUT)


def close_clients_at_exit() -> None:
    """Close this process's column and adapter clients at exit (see above); idempotent."""
    global _exit_hook_registered
    if not _exit_hook_registered:
        _exit_hook_registered = True
        atexit.register(_close_clients_at_exit)


class _LoopClient:
    """An ``AsyncAtomaClient`` with ``source``'s settings, one per running event loop.

    The source (even a sync ``AtomaClient``) only lends its configuration; the client is
    rebuilt from it, so an environment key is the one of the process that runs the call.
    The column classes close it at interpreter exit (:func:`close_clients_at_exit`).
    """

    def __init__(self, source: AtomaClient | AsyncAtomaClient) -> None:
        self._kwargs = source._pickle_args()
        self._client: AsyncAtomaClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> AsyncAtomaClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            # A Ray actor runs every call on one loop; a new loop happens only outside Ray
            # (tests, notebooks), where the old loop's pool cannot be reused.
            self._client = AsyncAtomaClient(**self._kwargs)
            self._loop = loop
            _clients[self._client] = loop
        return self._client


def _require_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}: {value!r:.80}")
    return value


def _no_parameters_with_an_adapter(
    source: object, model: str | None, params: Mapping[str, Any]
) -> None:
    if model is not None or params:
        given = ", ".join(sorted([*params, *(["model"] if model is not None else [])]))
        raise TypeError(
            f"{given}: set these on the {type(source).__name__} itself; "
            "model and request parameters are for a client source"
        )


def _one_answer_per_row(source: object, params: Mapping[str, Any]) -> None:
    # Only the first choice would reach the column: the others would vanish unseen.
    fields = params if is_client(source) else {"n": getattr(source, "n", None)}
    check_one_answer(fields, "a dataset column")


def completion_call(source: object, model: str | None, params: Mapping[str, Any]) -> RowCall:
    """The call that completes one prompt with ``source``.

    ``model`` and ``params`` (generation parameters under the client's names) are for a
    client source and are checked now, before any request; an adapter carries its own.
    """
    _one_answer_per_row(source, params)
    if is_client(source):
        assert isinstance(source, (AtomaClient, AsyncAtomaClient))
        if not model:
            raise TypeError("model is required when the source is a client")
        base: dict[str, Any] = {**params, "model": model, "prompt": "check"}
        # Validates every parameter with the client's own rules; raises naming the field.
        build_completion_body(cast(CompletionParams, base), stream=False)
        clients = _LoopClient(source)

        async def with_client(prompt: Any) -> RowResult:
            call = cast(CompletionParams, {**base, "prompt": _require_text(prompt, "a prompt")})
            completion = await clients.get().completions.create(**call)
            text = completion.choices[0].text if completion.choices else ""
            return RowResult(text, counts(completion.usage), completion.signer)

        return with_client
    _no_parameters_with_an_adapter(source, model, params)
    if is_instance_of(source, "atoma_integrations.langchain.llms", "AtomaLLM"):
        return _langchain_completion(source)
    if is_instance_of(source, "atoma_integrations.llama_index.llms", "Atoma"):
        return _llama_index_completion(source)
    raise TypeError(
        "source must be an AtomaClient, AsyncAtomaClient, AtomaLLM (LangChain) or Atoma "
        f"(LlamaIndex), got {type(source).__name__}"
    )


def _langchain_completion(llm: Any) -> RowCall:
    async def call(prompt: Any) -> RowResult:
        result = await llm.agenerate([_require_text(prompt, "a prompt")])
        usage = counts((result.llm_output or {}).get("token_usage"))
        generation = result.generations[0][0]
        signer = (generation.generation_info or {}).get("signer")
        return RowResult(generation.text, usage, signer)

    return call


def _llama_index_completion(llm: Any) -> RowCall:
    async def call(prompt: Any) -> RowResult:
        response = await llm.acomplete(_require_text(prompt, "a prompt"))
        usage = counts(getattr(response.raw, "usage", None))
        return RowResult(response.text, usage, response.additional_kwargs.get("signer"))

    return call


# -- chat ------------------------------------------------------------------------------------


def _messages(value: Any, system_prompt: str | None) -> list[dict[str, str]]:
    """A row's chat input as OpenAI messages: a string is one user message; a list of
    ``{"role", "content"}`` mappings (how Ray hands over a list-of-structs column) is taken
    as it is. ``system_prompt`` goes first when set."""
    if isinstance(value, str):
        messages = [{"role": "user", "content": value}]
    elif isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        messages = []
        for item in items:
            if (
                not isinstance(item, Mapping)
                or not isinstance(item.get("role"), str)
                or not isinstance(item.get("content"), str)
            ):
                raise TypeError(
                    "a chat row must be a string or a list of {'role', 'content'} messages "
                    f"with string values, got an item {item!r:.80}"
                )
            messages.append({"role": item["role"], "content": item["content"]})
        if not messages:
            raise ValueError("a chat row has no messages")
    else:
        raise TypeError(
            "a chat row must be a string or a list of {'role', 'content'} messages, "
            f"got {type(value).__name__}: {value!r:.80}"
        )
    if system_prompt is not None:
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


def chat_call(
    source: object, model: str | None, params: Mapping[str, Any], system_prompt: str | None
) -> RowCall:
    """The call that answers one row's messages with ``source`` (text content per row)."""
    _one_answer_per_row(source, params)
    if is_client(source):
        assert isinstance(source, (AtomaClient, AsyncAtomaClient))
        if not model:
            raise TypeError("model is required when the source is a client")
        tooling = sorted({"tools", "tool_choice", "parallel_tool_calls"} & set(params))
        if tooling:
            # A reply made of tool calls has no text: the row would hold None, silently.
            raise TypeError(
                f"ChatColumn keeps each reply's text; {', '.join(tooling)} need tool calls "
                "handled per row: write that map_batches step by hand (docs/scale_out.md)"
            )
        base: dict[str, Any] = {**params, "model": model, "messages": _messages("check", None)}
        build_chat_body(cast(ChatCompletionParams, base), stream=False)
        clients = _LoopClient(source)

        async def with_client(value: Any) -> RowResult:
            messages = _messages(value, system_prompt)
            call = cast(ChatCompletionParams, {**base, "messages": messages})
            completion = await clients.get().chat.completions.create(**call)
            content = completion.choices[0].message.content if completion.choices else None
            return RowResult(content, counts(completion.usage), completion.signer)

        return with_client
    _no_parameters_with_an_adapter(source, model, params)
    if is_instance_of(source, "atoma_integrations.langchain.chat_models", "ChatAtoma"):
        chat: Any = source

        async def langchain(value: Any) -> RowResult:
            message = await chat.ainvoke(_messages(value, system_prompt))
            usage = message.usage_metadata or {}
            return RowResult(
                message.content,
                counts(
                    {
                        "prompt_tokens": usage.get("input_tokens"),
                        "completion_tokens": usage.get("output_tokens"),
                        "total_tokens": usage.get("total_tokens"),
                    }
                ),
                message.response_metadata.get("signer"),
            )

        return langchain
    if is_instance_of(source, "atoma_integrations.llama_index.chat", "AtomaChat"):
        llm: Any = source
        from llama_index.core.llms import ChatMessage  # the adapter's module loaded it

        async def llama_index(value: Any) -> RowResult:
            messages = [ChatMessage(**m) for m in _messages(value, system_prompt)]
            response = await llm.achat(messages)
            return RowResult(
                response.message.content,
                counts(getattr(response.raw, "usage", None)),
                response.additional_kwargs.get("signer"),
            )

        return llama_index
    raise TypeError(
        "source must be an AtomaClient, AsyncAtomaClient, ChatAtoma (LangChain) or AtomaChat "
        f"(LlamaIndex), got {type(source).__name__}"
    )


# -- embeddings ------------------------------------------------------------------------------


def embedding_call(source: object, model: str | None, params: Mapping[str, Any]) -> RowsCall:
    """The call that embeds several rows' texts in one request with ``source``.

    The request's usage goes on its first row and zeros on the others, so the usage columns
    sum to what was billed; a per-row split of one request's tokens is not known.
    """
    if is_client(source):
        assert isinstance(source, (AtomaClient, AsyncAtomaClient))
        if not model:
            raise TypeError("model is required when the source is a client")
        base: dict[str, Any] = {**params, "model": model, "input": ["check"]}
        build_embedding_body(cast(EmbeddingParams, base))
        clients = _LoopClient(source)

        async def with_client(values: list[Any]) -> list[RowResult]:
            texts = [_require_text(v, "a text to embed") for v in values]
            call = cast(EmbeddingParams, {**base, "input": texts})
            response = await clients.get().embeddings.create(**call)
            usage = counts(response.usage)
            return [
                RowResult(
                    item.embedding,
                    usage if i == 0 or usage is None else (0, 0, 0),
                    response.signer,
                )
                for i, item in enumerate(response.data)
            ]

        return with_client
    _no_parameters_with_an_adapter(source, model, params)
    if is_instance_of(source, "atoma_integrations.langchain.embeddings", "AtomaEmbeddings"):
        embeddings: Any = source

        async def langchain(values: list[Any]) -> list[RowResult]:
            texts = [_require_text(v, "a text to embed") for v in values]
            return [RowResult(v, None) for v in await embeddings.aembed_documents(texts)]

        return langchain
    if is_instance_of(source, "atoma_integrations.llama_index.embeddings", "AtomaEmbedding"):
        embedding: Any = source

        async def llama_index(values: list[Any]) -> list[RowResult]:
            texts = [_require_text(v, "a text to embed") for v in values]
            return [RowResult(v, None) for v in await embedding.aget_text_embedding_batch(texts)]

        return llama_index
    raise TypeError(
        "source must be an AtomaClient, AsyncAtomaClient, AtomaEmbeddings (LangChain) or "
        f"AtomaEmbedding (LlamaIndex), got {type(source).__name__}"
    )

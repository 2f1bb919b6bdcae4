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
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from atoma_integrations._client import AsyncAtomaClient, AtomaClient
from atoma_integrations.resources import CompletionParams, build_completion_body
from atoma_integrations.types import Usage

__all__ = [
    "RowCall",
    "RowResult",
    "RowsCall",
    "completion_call",
    "is_client",
    "is_instance_of",
    "one_row_per_request",
]


@dataclass(frozen=True)
class RowResult:
    """What one row's request produced."""

    value: Any
    """The row's result (generated text, message content, vector)."""
    usage: Usage | None
    """Token counts of the request, or None when the server sent none."""


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


class _LoopClient:
    """An ``AsyncAtomaClient`` with ``source``'s settings, one per running event loop.

    The source (even a sync ``AtomaClient``) only lends its configuration; the client is
    rebuilt from it, so an environment key is the one of the process that runs the call.
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
        return self._client


def _require_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}: {value!r:.80}")
    return value


def completion_call(source: object, model: str | None, params: Mapping[str, Any]) -> RowCall:
    """The call that completes one prompt with ``source``.

    ``model`` and ``params`` (generation parameters under the client's names) are for a
    client source and are checked now, before any request; an adapter carries its own.
    """
    if is_client(source):
        assert isinstance(source, (AtomaClient, AsyncAtomaClient))
        if not model:
            raise TypeError("model is required when the source is a client")
        base: dict[str, Any] = {**params, "model": model, "prompt": "check"}
        # Validates every parameter with the client's own rules; raises naming the field.
        build_completion_body(base, stream=False)  # type: ignore[arg-type]
        clients = _LoopClient(source)

        async def with_client(prompt: Any) -> RowResult:
            call: CompletionParams = {**base, "prompt": _require_text(prompt, "a prompt")}  # type: ignore[typeddict-item]
            completion = await clients.get().completions.create(**call)
            return RowResult(
                completion.choices[0].text if completion.choices else "", completion.usage
            )

        return with_client
    if model is not None or params:
        given = ", ".join(sorted([*params, *(["model"] if model is not None else [])]))
        raise TypeError(
            f"{given}: set these on the {type(source).__name__} itself; "
            "model and generation parameters are for a client source"
        )
    if is_instance_of(source, "atoma_integrations.langchain.llms", "AtomaLLM"):
        return _langchain_completion(source)
    if is_instance_of(source, "atoma_integrations.llama_index.llms", "Atoma"):
        return _llama_index_completion(source)
    raise TypeError(
        "source must be an AtomaClient, AsyncAtomaClient, AtomaLLM (LangChain) or Atoma "
        f"(LlamaIndex), got {type(source).__name__}"
    )


def _usage_from_counts(counts: Mapping[str, Any] | None) -> Usage | None:
    if not counts:
        return None
    return Usage(
        prompt_tokens=int(counts.get("prompt_tokens", 0)),
        completion_tokens=int(counts.get("completion_tokens", 0)),
        total_tokens=int(counts.get("total_tokens", 0)),
    )


def _langchain_completion(llm: Any) -> RowCall:
    async def call(prompt: Any) -> RowResult:
        result = await llm.agenerate([_require_text(prompt, "a prompt")])
        usage = _usage_from_counts((result.llm_output or {}).get("token_usage"))
        return RowResult(result.generations[0][0].text, usage)

    return call


def _llama_index_completion(llm: Any) -> RowCall:
    async def call(prompt: Any) -> RowResult:
        response = await llm.acomplete(_require_text(prompt, "a prompt"))
        raw = response.raw
        return RowResult(response.text, getattr(raw, "usage", None))

    return call

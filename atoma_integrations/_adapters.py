"""What the LangChain and LlamaIndex adapters share: client settings, clients, parameters.

Adapters hold settings, not connections. Clients are built on first use and shared by
every adapter with the same settings in the process, so creating many adapter objects
(one per request, as web apps often do) does not open a connection pool each. The async
client is per event loop, because an httpx.AsyncClient belongs to the loop it first ran
on: the same adapter then works across separate ``asyncio.run()`` calls and in notebooks.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic import field_validator as _field_validator
from typing_extensions import Self

from atoma_integrations._client import AsyncAtomaClient, AtomaClient
from atoma_integrations._config import API_KEY_ENV_VARS, BASE_URL_ENV_VAR
from atoma_integrations._transport import AsyncTransportName
from atoma_integrations.resources import ChatCompletionParams, CompletionParams, EmbeddingParams
from atoma_integrations.types import (
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    Usage,
)
from atoma_integrations.types.chat import ReasoningEffort
from atoma_integrations.types.embedding import check_embedding_inputs

__all__ = [
    "CHAT_CALL_FIELDS",
    "CHAT_GENERATION_PARAMS",
    "CHAT_RESERVED_BODY_KEYS",
    "DEFAULT_MAX_CONCURRENCY",
    "EMBEDDING_BODY_KEYS",
    "GENERATION_PARAMS",
    "RESERVED_BODY_KEYS",
    "SAMPLING_PARAMS",
    "ChatGenerationFields",
    "ClientSettings",
    "EmbeddingFields",
    "GenerationFields",
    "async_client_for",
    "atoma_extras",
    "batched",
    "chat_params",
    "check_extra_body",
    "checked_query",
    "checked_texts",
    "completion_params",
    "sum_usage_counts",
    "sync_client_for",
    "usage_counts",
]

_ENV_VARS = (*API_KEY_ENV_VARS, BASE_URL_ENV_VAR)

# Prompts of one batch call in flight at once, unless the caller says otherwise.
DEFAULT_MAX_CONCURRENCY = 8

# The sampling parameters both endpoints share (types/_sampling.SamplingRequest).
SAMPLING_PARAMS = (
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "seed",
    "logit_bias",
    "presence_penalty",
    "frequency_penalty",
    "user",
)

# Every generation parameter of the completions client, under the client's names; the
# completion adapters expose the same fields, so a name means the same thing everywhere.
GENERATION_PARAMS = (*SAMPLING_PARAMS, "logprobs", "suffix", "echo", "best_of")

# The same for chat: chat's logprobs is a flag, with top_logprobs beside it.
CHAT_GENERATION_PARAMS = (*SAMPLING_PARAMS, "logprobs", "top_logprobs", "reasoning_effort")

# Body fields an adapter owns; its extra-body field (model_kwargs, additional_kwargs) may not
# set them, or a copy there would silently override the validated field.
RESERVED_BODY_KEYS = frozenset({*GENERATION_PARAMS, "model", "prompt", "stream"})
CHAT_RESERVED_BODY_KEYS = frozenset(
    {*CHAT_GENERATION_PARAMS, "model", "messages", "stream", "stream_options"}
)

# What a chat call may carry beside the generation parameters (bound tools, structured
# output): sent as request fields, not as extra body.
CHAT_CALL_FIELDS = frozenset(
    {
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "stream_options",
        "max_completion_tokens",
    }
)


_CHAT_CALL_NAMES = frozenset({*CHAT_GENERATION_PARAMS, *CHAT_CALL_FIELDS, "model", "timeout"})
_COMPLETION_CALL_NAMES = frozenset({*GENERATION_PARAMS, "model", "timeout"})


def _client_rule(request: Callable[[str, Any], BaseModel], name: str, value: Any) -> Any:
    """``value`` checked by the client's request model, in its normal form; errors name it."""
    try:
        validated = request(name, value)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in error["loc"][1:])
        raise ValueError(f"{message} (at {where})" if where else message) from None
    return getattr(validated, name)


class _SamplingFields(BaseModel):
    """The model and the sampling parameters every adapter has, under the client's names."""

    model_config = ConfigDict(use_attribute_docstrings=True, protected_namespaces=())

    model: str = Field(min_length=1)
    """Model id, exactly as ``GET /models`` lists it (Atoma matches case-sensitively)."""
    max_tokens: int = 256
    """Most tokens to generate; always sent (Atoma otherwise reserves 8192 for billing)."""
    temperature: float | None = None
    """Sampling temperature, 0 (greedy) to 2; None leaves the server's default."""
    top_p: float | None = None
    """Nucleus sampling mass, 0 to 1."""
    n: int | None = None
    """Completions per prompt (not with streaming)."""
    stop: list[str] | None = None
    """Up to 4 sequences that end generation; a per-call ``stop=`` replaces them."""
    seed: int | None = None
    """Seed for best-effort deterministic sampling."""
    logit_bias: dict[str, float] | None = None
    """Bias per token id, -100 to 100 (integer ids, as strings or ints)."""
    presence_penalty: float | None = None
    """Penalty for tokens already present, -2 to 2."""
    frequency_penalty: float | None = None
    """Penalty proportional to token frequency, -2 to 2."""
    user: str | None = None
    """An end-user id for abuse monitoring."""


class GenerationFields(_SamplingFields):
    """The model and generation parameters of the completion adapters (client's names).

    Each value is checked by the client's own request model when the adapter is built, so a
    bad value fails there, naming the field, instead of at the first request.
    """

    logprobs: int | None = None
    """Return log-probabilities of this many most likely tokens (0 to 20)."""
    suffix: str | None = None
    """Text after the completion; sent only when set (vLLM behind Atoma rejects it)."""
    echo: bool | None = None
    """Put the prompt in front of the generated text (non-streaming only on most servers)."""
    best_of: int | None = None
    """Generate this many server-side and return the best; sent only when set."""

    @_field_validator(*GENERATION_PARAMS, mode="before")
    @classmethod
    def _same_rules_as_the_client(cls, value: Any, info: ValidationInfo) -> Any:
        """Check each parameter with the client's request model, and take its normal form
        (a stop string as a list, integer logit_bias keys as strings)."""
        if value is None:
            return None
        return _client_rule(
            lambda name, v: CompletionRequest(model="m", prompt="p", **{name: v}),
            info.field_name or "",
            value,
        )

    def generation_defaults(self) -> dict[str, Any]:
        """The generation parameters as set on the adapter (None: not sent)."""
        return {name: getattr(self, name) for name in GENERATION_PARAMS}


_ONE_MESSAGE = ({"role": "user", "content": "x"},)


class ChatGenerationFields(_SamplingFields):
    """The model and generation parameters of the chat adapters (client's names).

    Checked by the client's ``ChatCompletionRequest`` when the adapter is built, as
    :class:`GenerationFields` is by ``CompletionRequest``.
    """

    logprobs: bool | None = None
    """Return the log-probability of each generated token."""
    top_logprobs: int | None = None
    """With ``logprobs``: also this many most likely alternatives per token (0 to 20)."""
    reasoning_effort: ReasoningEffort | None = None
    """How hard a reasoning model thinks: ``none``, ``minimal``, ``low``, ``medium``,
    ``high``, ``xhigh`` or ``max`` (models that do not reason ignore it)."""

    @_field_validator(*CHAT_GENERATION_PARAMS, mode="before")
    @classmethod
    def _same_rules_as_the_client(cls, value: Any, info: ValidationInfo) -> Any:
        """Check each parameter with the client's chat request model (normal form too)."""
        if value is None:
            return None

        def request(name: str, v: Any) -> BaseModel:
            # top_logprobs alone is refused (it needs logprobs): checked here for its range.
            fields: dict[str, Any] = {"model": "m", "messages": _ONE_MESSAGE, name: v}
            if name == "top_logprobs":
                fields["logprobs"] = True
            return ChatCompletionRequest(**fields)

        return _client_rule(request, info.field_name or "", value)

    @model_validator(mode="after")
    def _top_logprobs_needs_logprobs(self) -> Self:
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("top_logprobs needs logprobs=True")
        return self

    def generation_defaults(self) -> dict[str, Any]:
        """The generation parameters as set on the adapter (None: not sent)."""
        return {name: getattr(self, name) for name in CHAT_GENERATION_PARAMS}


@dataclass(frozen=True)
class ClientSettings:
    """The connection settings of an adapter; equal settings share one client."""

    api_key: SecretStr | None
    base_url: str | None
    timeout: float | None
    max_retries: int
    default_headers: tuple[tuple[str, str], ...] = ()
    transport: AsyncTransportName | None = None
    """The async client's pool (None: the default); the sync client has one pool only."""

    def _key(self) -> tuple[Any, ...]:
        key = self.api_key.get_secret_value() if self.api_key is not None else None
        # A client resolves the environment when it is built; the environment it saw is part
        # of its identity, or a changed ATOMA_API_KEY / ATOMA_BASE_URL (a rotated key, an
        # unpickled adapter) would keep reaching the old client's key and server.
        env = tuple(os.environ.get(name) for name in _ENV_VARS)
        return (key, self.base_url, self.timeout, self.max_retries, self.default_headers, env)

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "max_retries": self.max_retries,
            "default_headers": dict(self.default_headers) or None,
        }
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        return kwargs


_lock = threading.Lock()
_sync_clients: dict[tuple[Any, ...], AtomaClient] = {}
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Any, ...], AsyncAtomaClient]
] = weakref.WeakKeyDictionary()


def sync_client_for(settings: ClientSettings) -> AtomaClient:
    """The process-wide sync client for ``settings``, built on first use."""
    key = settings._key()
    client = _sync_clients.get(key)
    if client is None or client.is_closed:
        with _lock:
            client = _sync_clients.get(key)
            if client is None or client.is_closed:
                client = AtomaClient(**settings._client_kwargs())
                _sync_clients[key] = client
    return client


def async_client_for(settings: ClientSettings) -> AsyncAtomaClient:
    """The async client for ``settings`` on the running event loop, built on first use."""
    loop = asyncio.get_running_loop()
    key = (*settings._key(), settings.transport)
    with _lock:
        per_loop = _async_clients.setdefault(loop, {})
        client = per_loop.get(key)
        if client is None or client.is_closed:
            client = AsyncAtomaClient(**settings._client_kwargs(), transport=settings.transport)
            per_loop[key] = client
    return client


def _with_call_values(
    params: dict[str, Any],
    call_names: frozenset[str],
    stop: list[str] | None,
    overrides: Mapping[str, Any] | None,
    extra_body: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """``params`` with the per-call values: request fields by name, the rest in the extra body."""
    if overrides:
        for name, value in overrides.items():
            if name in call_names:
                params[name] = value
            else:
                extra = dict(extra_body or {})
                extra[name] = value
                extra_body = extra
    if stop is not None:
        params["stop"] = list(stop)
    if extra_body:
        params["extra_body"] = dict(extra_body)
    return params


def completion_params(
    model: str,
    prompt: str,
    defaults: Mapping[str, Any],
    *,
    stop: list[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    extra_body: Mapping[str, Any] | None = None,
) -> CompletionParams:
    """The client call for one prompt: adapter defaults, then per-call values.

    A ``stop`` given for the call replaces the adapter's default rather than adding to it,
    which is what LangChain and LlamaIndex users expect of ``invoke(..., stop=[...])``.
    """
    params: dict[str, Any] = {k: defaults.get(k) for k in GENERATION_PARAMS}
    params["model"] = model
    params["prompt"] = prompt
    return _with_call_values(params, _COMPLETION_CALL_NAMES, stop, overrides, extra_body)  # type: ignore[return-value]


def chat_params(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    defaults: Mapping[str, Any],
    *,
    stop: list[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    extra_body: Mapping[str, Any] | None = None,
) -> ChatCompletionParams:
    """The client call for one conversation: adapter defaults, then per-call values.

    Per-call values with a request field's name (``tools``, ``tool_choice``,
    ``response_format``, a generation parameter, ``model``, ``timeout``) are sent as that
    field; anything else goes into the extra body. ``stop`` replaces the default, as in
    :func:`completion_params`.
    """
    params: dict[str, Any] = {k: defaults.get(k) for k in CHAT_GENERATION_PARAMS}
    params["model"] = model
    params["messages"] = list(messages)
    return _with_call_values(params, _CHAT_CALL_NAMES, stop, overrides, extra_body)  # type: ignore[return-value]


def usage_counts(usage: Usage | None) -> dict[str, int]:
    """Token counts as the frameworks report them (empty when the server sent none)."""
    if usage is None:
        return {}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def sum_usage_counts(usages: Sequence[Mapping[str, int]]) -> dict[str, int]:
    """Token counts of several requests added up, name by name."""
    total: dict[str, int] = {}
    for usage in usages:
        for name, value in usage.items():
            total[name] = total.get(name, 0) + value
    return total


def atoma_extras(completion: BaseModel) -> dict[str, Any]:
    """Atoma's verifiability fields (``response_hash``, ``signature``) when present."""
    extra = completion.__pydantic_extra__
    if not extra:
        return {}
    return {k: extra[k] for k in ("response_hash", "signature") if extra.get(k) is not None}


# ---------------------------------------------------------------------------------------
# Embeddings: what AtomaEmbeddings (LangChain) and AtomaEmbedding (LlamaIndex) share.
# ---------------------------------------------------------------------------------------

# Body fields an embeddings adapter owns; its extra-body field may not set them.
EMBEDDING_BODY_KEYS = frozenset(EmbeddingRequest.model_fields)


class EmbeddingFields(BaseModel):
    """The embedding parameters of both adapters, under the client's names, checked by
    the client's request model when the adapter is built."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    dimensions: int | None = None
    """Length of the vectors, for models that can shorten them; None: the model's own."""
    user: str | None = None
    """An end-user id for abuse monitoring."""

    @_field_validator("dimensions", "user", mode="before")
    @classmethod
    def _same_rules_as_the_client(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        name = info.field_name or ""
        try:
            request = EmbeddingRequest(model="m", input="x", **{name: value})
        except ValidationError as exc:
            raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
        return getattr(request, name)

    def embedding_params(
        self,
        model: str,
        texts: str | list[str],
        extra_body: Mapping[str, Any] | None = None,
    ) -> EmbeddingParams:
        """The client call for ``texts``, with the adapter's parameters."""
        params: EmbeddingParams = {"model": model, "input": texts}
        if self.dimensions is not None:
            params["dimensions"] = self.dimensions
        if self.user is not None:
            params["user"] = self.user
        if extra_body:
            params["extra_body"] = dict(extra_body)
        return params


def check_extra_body(extra_body: Mapping[str, Any], field: str, owner: str) -> None:
    """An embeddings adapter's extra-body field may not override a validated field."""
    clash = sorted(EMBEDDING_BODY_KEYS.intersection(extra_body))
    if clash:
        raise ValueError(f"{field} must not set {', '.join(clash)}: use the {owner} field(s)")


def checked_texts(texts: Any, name: str = "texts") -> list[str]:
    """``texts`` as a list, each a non-empty string, checked once for the whole call so an
    error names the caller's position (batches would each count from 0)."""
    if isinstance(texts, str):
        raise TypeError(f"{name} must be a list of strings, got one string; embed it as a query")
    listed = list(texts)
    check_embedding_inputs(listed, name=name)
    return listed


def checked_query(text: Any, name: str = "text") -> str:
    """``text`` if it is a non-empty string, else a clear error before any request."""
    if not isinstance(text, str):
        raise TypeError(f"the {name} to embed must be a string, got {type(text).__name__}")
    if not text:
        raise ValueError(f"the {name} to embed is an empty string; embeddings need some text")
    return text


def batched(texts: list[str], size: int) -> list[list[str]]:
    """``texts`` in consecutive batches of at most ``size``."""
    return [texts[i : i + size] for i in range(0, len(texts), size)]

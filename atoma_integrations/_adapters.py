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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo
from pydantic import field_validator as _field_validator

from atoma_integrations._client import AsyncAtomaClient, AtomaClient
from atoma_integrations._config import API_KEY_ENV_VARS, BASE_URL_ENV_VAR
from atoma_integrations.resources import CompletionParams, EmbeddingParams
from atoma_integrations.types import Completion, CompletionRequest, EmbeddingRequest, Usage
from atoma_integrations.types.embedding import check_embedding_inputs

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "EMBEDDING_BODY_KEYS",
    "GENERATION_PARAMS",
    "RESERVED_BODY_KEYS",
    "ClientSettings",
    "EmbeddingFields",
    "GenerationFields",
    "async_client_for",
    "atoma_extras",
    "batched",
    "check_extra_body",
    "checked_query",
    "checked_texts",
    "completion_params",
    "sync_client_for",
    "usage_counts",
]

_ENV_VARS = (*API_KEY_ENV_VARS, BASE_URL_ENV_VAR)

# Prompts of one batch call in flight at once, unless the caller says otherwise.
DEFAULT_MAX_CONCURRENCY = 8

# Every generation parameter of the client, under the client's names; the adapters expose
# the same fields, so a name means the same thing everywhere.
GENERATION_PARAMS = (
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "seed",
    "logprobs",
    "logit_bias",
    "presence_penalty",
    "frequency_penalty",
    "suffix",
    "echo",
    "best_of",
    "user",
)


# Body fields an adapter owns; its extra-body field (model_kwargs, additional_kwargs) may not
# set them, or a copy there would silently override the validated field.
RESERVED_BODY_KEYS = frozenset({*GENERATION_PARAMS, "model", "prompt", "stream"})


class GenerationFields(BaseModel):
    """The model and generation parameters of both adapters, under the client's names.

    Each value is checked by the client's own request model when the adapter is built, so a
    bad value fails there, naming the field, instead of at the first request.
    """

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
    logprobs: int | None = None
    """Return log-probabilities of this many most likely tokens (0 to 20)."""
    logit_bias: dict[str, float] | None = None
    """Bias per token id, -100 to 100 (integer ids, as strings or ints)."""
    presence_penalty: float | None = None
    """Penalty for tokens already present, -2 to 2."""
    frequency_penalty: float | None = None
    """Penalty proportional to token frequency, -2 to 2."""
    suffix: str | None = None
    """Text after the completion; sent only when set (vLLM behind Atoma rejects it)."""
    echo: bool | None = None
    """Put the prompt in front of the generated text (non-streaming only on most servers)."""
    best_of: int | None = None
    """Generate this many server-side and return the best; sent only when set."""
    user: str | None = None
    """An end-user id for abuse monitoring."""

    @_field_validator(*GENERATION_PARAMS, mode="before")
    @classmethod
    def _same_rules_as_the_client(cls, value: Any, info: ValidationInfo) -> Any:
        """Check each parameter with the client's request model, and take its normal form
        (a stop string as a list, integer logit_bias keys as strings)."""
        if value is None:
            return None
        name = info.field_name or ""
        try:
            request = CompletionRequest(model="m", prompt="p", **{name: value})
        except ValidationError as exc:
            error = exc.errors()[0]
            message = str(error["msg"]).removeprefix("Value error, ")
            where = ".".join(str(part) for part in error["loc"][1:])
            raise ValueError(f"{message} (at {where})" if where else message) from None
        return getattr(request, name)

    def generation_defaults(self) -> dict[str, Any]:
        """The generation parameters as set on the adapter (None: not sent)."""
        return {name: getattr(self, name) for name in GENERATION_PARAMS}


@dataclass(frozen=True)
class ClientSettings:
    """The connection settings of an adapter; equal settings share one client."""

    api_key: SecretStr | None
    base_url: str | None
    timeout: float | None
    max_retries: int
    default_headers: tuple[tuple[str, str], ...] = ()

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
    key = settings._key()
    with _lock:
        per_loop = _async_clients.setdefault(loop, {})
        client = per_loop.get(key)
        if client is None or client.is_closed:
            client = AsyncAtomaClient(**settings._client_kwargs())
            per_loop[key] = client
    return client


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
    if overrides:
        for name, value in overrides.items():
            if name in GENERATION_PARAMS or name in ("model", "timeout"):
                params[name] = value
            else:
                extra = dict(extra_body or {})
                extra[name] = value
                extra_body = extra
    if stop is not None:
        params["stop"] = list(stop)
    if extra_body:
        params["extra_body"] = dict(extra_body)
    return params  # type: ignore[return-value]


def usage_counts(usage: Usage | None) -> dict[str, int]:
    """Token counts as the frameworks report them (empty when the server sent none)."""
    if usage is None:
        return {}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def atoma_extras(completion: Completion) -> dict[str, Any]:
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

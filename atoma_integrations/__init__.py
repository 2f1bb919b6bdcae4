"""Atoma's hosted open models for LangChain and LlamaIndex, on a small typed httpx client.

This module holds the framework-free core: the clients, the response types and the errors.
The adapters live in ``atoma_integrations.langchain`` (``AtomaLLM``, ``ChatAtoma``,
``AtomaEmbeddings``) and ``atoma_integrations.llama_index`` (``Atoma``, ``AtomaChat``,
``AtomaEmbedding``); importing this module imports neither framework, nor aiohttp.

Names are loaded on first use (PEP 562): ``import atoma_integrations`` costs about what
``import httpx; from pydantic import BaseModel`` does, and the pydantic models, the client
and the transport are imported when a program first touches them. A public name is one
line in ``_LAZY`` (name -> defining module) plus its ``__all__`` entry and its
``TYPE_CHECKING`` import, which type checkers and IDEs read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from atoma_integrations._version import __version__

if TYPE_CHECKING:
    from atoma_integrations._client import AsyncAtomaClient, AtomaClient
    from atoma_integrations._config import (
        ATOMA_CLOUD_BASE_URL,
        DEFAULT_MAX_RETRIES,
        DEFAULT_TIMEOUT,
    )
    from atoma_integrations._streaming import (
        AsyncChatCompletionStream,
        AsyncCompletionStream,
        AsyncStreamOpener,
        ChatCompletionStream,
        CompletionStream,
    )
    from atoma_integrations.errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AtomaError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ContextLengthExceededError,
        InsufficientBalanceError,
        InternalServerError,
        MalformedEventError,
        MalformedResponseError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        SignatureVerificationError,
        StreamInterruptedError,
    )
    from atoma_integrations.resources import (
        ChatCompletionParams,
        CompletionParams,
        EmbeddingParams,
    )
    from atoma_integrations.types import (
        ChatCompletion,
        ChatCompletionChoice,
        ChatCompletionChunk,
        ChatCompletionMessage,
        ChatCompletionMessageToolCall,
        ChatCompletionRequest,
        Completion,
        CompletionChoice,
        CompletionChunk,
        CompletionRequest,
        CreateEmbeddingResponse,
        Embedding,
        EmbeddingRequest,
        EmbeddingUsage,
        Logprobs,
        Model,
        Usage,
    )

_ERRORS = "atoma_integrations.errors"
_TYPES = "atoma_integrations.types"

# Public name -> the module that defines it.
_LAZY: dict[str, str] = {
    "AtomaClient": "atoma_integrations._client",
    "AsyncAtomaClient": "atoma_integrations._client",
    "ATOMA_CLOUD_BASE_URL": "atoma_integrations._config",
    "DEFAULT_MAX_RETRIES": "atoma_integrations._config",
    "DEFAULT_TIMEOUT": "atoma_integrations._config",
    "CompletionStream": "atoma_integrations._streaming",
    "AsyncCompletionStream": "atoma_integrations._streaming",
    "ChatCompletionStream": "atoma_integrations._streaming",
    "AsyncChatCompletionStream": "atoma_integrations._streaming",
    "AsyncStreamOpener": "atoma_integrations._streaming",
    "CompletionParams": "atoma_integrations.resources",
    "ChatCompletionParams": "atoma_integrations.resources",
    "EmbeddingParams": "atoma_integrations.resources",
    "APIConnectionError": _ERRORS,
    "APIStatusError": _ERRORS,
    "APITimeoutError": _ERRORS,
    "AtomaError": _ERRORS,
    "AuthenticationError": _ERRORS,
    "BadRequestError": _ERRORS,
    "ConfigurationError": _ERRORS,
    "ContextLengthExceededError": _ERRORS,
    "InsufficientBalanceError": _ERRORS,
    "InternalServerError": _ERRORS,
    "MalformedEventError": _ERRORS,
    "MalformedResponseError": _ERRORS,
    "NotFoundError": _ERRORS,
    "PermissionDeniedError": _ERRORS,
    "RateLimitError": _ERRORS,
    "SignatureVerificationError": _ERRORS,
    "StreamInterruptedError": _ERRORS,
    "ChatCompletion": _TYPES,
    "ChatCompletionChoice": _TYPES,
    "ChatCompletionChunk": _TYPES,
    "ChatCompletionMessage": _TYPES,
    "ChatCompletionMessageToolCall": _TYPES,
    "ChatCompletionRequest": _TYPES,
    "Completion": _TYPES,
    "CompletionChoice": _TYPES,
    "CompletionChunk": _TYPES,
    "CompletionRequest": _TYPES,
    "CreateEmbeddingResponse": _TYPES,
    "Embedding": _TYPES,
    "EmbeddingRequest": _TYPES,
    "EmbeddingUsage": _TYPES,
    "Logprobs": _TYPES,
    "Model": _TYPES,
    "Usage": _TYPES,
}

__all__ = [
    "ATOMA_CLOUD_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAtomaClient",
    "AsyncChatCompletionStream",
    "AsyncCompletionStream",
    "AsyncStreamOpener",
    "AtomaClient",
    "AtomaError",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionChoice",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionParams",
    "ChatCompletionRequest",
    "ChatCompletionStream",
    "Completion",
    "CompletionChoice",
    "CompletionChunk",
    "CompletionParams",
    "CompletionRequest",
    "CompletionStream",
    "ConfigurationError",
    "ContextLengthExceededError",
    "CreateEmbeddingResponse",
    "Embedding",
    "EmbeddingParams",
    "EmbeddingRequest",
    "EmbeddingUsage",
    "InsufficientBalanceError",
    "InternalServerError",
    "Logprobs",
    "MalformedEventError",
    "MalformedResponseError",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SignatureVerificationError",
    "StreamInterruptedError",
    "Usage",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute read
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

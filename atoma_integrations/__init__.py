"""Atoma's hosted open models for LangChain and LlamaIndex, on a small typed httpx client.

This module holds the framework-free core: the clients, the response types and the errors.
The adapters live in ``atoma_integrations.langchain`` (``AtomaLLM``, ``ChatAtoma``) and
``atoma_integrations.llama_index`` (``Atoma``, ``AtomaChat``); importing this module imports
neither framework.
"""

from atoma_integrations._client import AsyncAtomaClient, AtomaClient
from atoma_integrations._config import ATOMA_CLOUD_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from atoma_integrations._streaming import (
    AsyncChatCompletionStream,
    AsyncCompletionStream,
    ChatCompletionStream,
    CompletionStream,
)
from atoma_integrations._version import __version__
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
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
)
from atoma_integrations.resources import ChatCompletionParams, CompletionParams
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
    Logprobs,
    Model,
    Usage,
)

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
    "InsufficientBalanceError",
    "InternalServerError",
    "Logprobs",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamInterruptedError",
    "Usage",
    "__version__",
]

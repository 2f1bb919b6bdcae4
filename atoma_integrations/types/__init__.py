"""Pydantic request and response types, one module per endpoint.

Requests are strict: every documented range is checked before anything is sent, and the
error names the field. Responses are lenient: unknown fields are kept (Atoma adds
``response_hash`` and ``signature``) and OpenAI-only fields are optional.
"""

from atoma_integrations.types.chat import (
    ChatCompletion,
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    ChatCompletionRequest,
    ChatCompletionToolCallFunction,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
    MessageParam,
    ToolChoice,
    ToolParam,
)
from atoma_integrations.types.completion import (
    Completion,
    CompletionChoice,
    CompletionChunk,
    CompletionRequest,
    Logprobs,
)
from atoma_integrations.types.shared import Model, ModelList, Usage, build_models

__all__ = [
    "ChatCompletion",
    "ChatCompletionChoice",
    "ChatCompletionChunk",
    "ChatCompletionChunkChoice",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionRequest",
    "ChatCompletionToolCallFunction",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "Completion",
    "CompletionChoice",
    "CompletionChunk",
    "CompletionRequest",
    "Logprobs",
    "MessageParam",
    "Model",
    "ModelList",
    "ToolChoice",
    "ToolParam",
    "Usage",
    "build_models",
]

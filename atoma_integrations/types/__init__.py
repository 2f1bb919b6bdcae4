"""Pydantic request and response types, one module per endpoint.

Requests are strict: every documented range is checked before anything is sent, and the
error names the field. Responses are lenient: unknown fields are kept (Atoma adds
``response_hash`` and ``signature``) and OpenAI-only fields are optional.
"""

from atoma_integrations.types.completion import (
    Completion,
    CompletionChoice,
    CompletionChunk,
    CompletionRequest,
    Logprobs,
)
from atoma_integrations.types.embedding import (
    CreateEmbeddingResponse,
    Embedding,
    EmbeddingRequest,
    EmbeddingUsage,
)
from atoma_integrations.types.shared import Model, ModelList, Usage, build_models

__all__ = [
    "Completion",
    "CompletionChoice",
    "CompletionChunk",
    "CompletionRequest",
    "CreateEmbeddingResponse",
    "Embedding",
    "EmbeddingRequest",
    "EmbeddingUsage",
    "Logprobs",
    "Model",
    "ModelList",
    "Usage",
    "build_models",
]

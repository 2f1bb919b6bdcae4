"""The API's resources, one module each: what to send and how to read the answer."""

from atoma_integrations.resources.completions import (
    AsyncCompletions,
    CompletionParams,
    Completions,
    build_completion_body,
)
from atoma_integrations.resources.embeddings import (
    AsyncEmbeddings,
    EmbeddingParams,
    Embeddings,
    build_embedding_body,
)
from atoma_integrations.resources.models import AsyncModels, Models

__all__ = [
    "AsyncCompletions",
    "AsyncEmbeddings",
    "AsyncModels",
    "CompletionParams",
    "Completions",
    "EmbeddingParams",
    "Embeddings",
    "Models",
    "build_completion_body",
    "build_embedding_body",
]

"""The completion types under their first public path; they live in ``atoma_integrations.types``."""

from atoma_integrations.types import (
    Completion,
    CompletionChoice,
    CompletionChunk,
    CompletionRequest,
    Logprobs,
    Model,
    ModelList,
    Usage,
    build_models,
)

__all__ = [
    "Completion",
    "CompletionChoice",
    "CompletionChunk",
    "CompletionRequest",
    "Logprobs",
    "Model",
    "ModelList",
    "Usage",
    "build_models",
]

"""The API's resources, one module each: what to send and how to read the answer."""

from atoma_integrations.resources.chat import (
    AsyncChat,
    AsyncChatCompletions,
    Chat,
    ChatCompletionParams,
    ChatCompletions,
    build_chat_body,
)
from atoma_integrations.resources.completions import (
    AsyncCompletions,
    CompletionParams,
    Completions,
    build_completion_body,
)
from atoma_integrations.resources.models import AsyncModels, Models

__all__ = [
    "AsyncChat",
    "AsyncChatCompletions",
    "AsyncCompletions",
    "AsyncModels",
    "Chat",
    "ChatCompletionParams",
    "ChatCompletions",
    "CompletionParams",
    "Completions",
    "Models",
    "build_chat_body",
    "build_completion_body",
]

"""Pydantic types for ``/v1/chat/completions`` requests and responses.

Requests are strict: roles, content parts, tool definitions, tool choice and response format
are checked before anything is sent, and the error names the field
(``messages.2.tool.tool_call_id``); they are declared in ``_chat_messages`` (the messages)
and ``_chat_request`` (the rest of the body) and exported from here. Responses are lenient
like the completion types: unknown fields are kept (Atoma adds ``response_hash`` and
``signature``) and OpenAI-only fields are optional. Stream chunk choices and deltas drop
undeclared fields, as completion choices do, because they are decoded once per streamed token.

A reasoning model's thinking is ``reasoning`` on the message and on each delta, read from
``reasoning`` or, when a server sends only that, ``reasoning_content`` (vLLM renamed the field
in 0.11.1 and sent both until 0.16).
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from atoma_integrations.types._chat_messages import (
    AssistantMessageParam,
    FunctionCall,
    ImageURL,
    ImageURLPart,
    MessageParam,
    SystemMessageParam,
    TextPart,
    ToolCallParam,
    ToolMessageParam,
    UserMessageParam,
)
from atoma_integrations.types._chat_request import (
    ChatCompletionRequest,
    FunctionDefinition,
    JSONObjectResponseFormat,
    JSONSchema,
    JSONSchemaResponseFormat,
    NamedToolChoice,
    NamedToolChoiceFunction,
    ReasoningEffort,
    ResponseFormat,
    StreamOptions,
    TextResponseFormat,
    ToolChoice,
    ToolParam,
)
from atoma_integrations.types.shared import Lenient, Signed, Usage, defer_build

__all__ = [
    "AssistantMessageParam",
    "ChatCompletion",
    "ChatCompletionChoice",
    "ChatCompletionChunk",
    "ChatCompletionChunkChoice",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionRequest",
    "ChatCompletionToolCallFunction",
    "ChatLogprobs",
    "ChatTokenLogprob",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "FunctionCall",
    "FunctionDefinition",
    "ImageURL",
    "ImageURLPart",
    "JSONObjectResponseFormat",
    "JSONSchema",
    "JSONSchemaResponseFormat",
    "MessageParam",
    "NamedToolChoice",
    "NamedToolChoiceFunction",
    "ReasoningEffort",
    "ResponseFormat",
    "StreamOptions",
    "SystemMessageParam",
    "TextPart",
    "TextResponseFormat",
    "ToolCallParam",
    "ToolChoice",
    "ToolMessageParam",
    "ToolParam",
    "UserMessageParam",
]

# ``reasoning``, else ``reasoning_content``: resolved by pydantic-core while decoding, so a
# streamed delta pays nothing for it in Python.
_REASONING = AliasChoices("reasoning", "reasoning_content")


class ChatTokenLogprob(Lenient):
    """One token's log-probability, with its most likely alternatives."""

    token: str = ""
    """The token, as text."""
    logprob: float | None = None
    """Its log-probability."""
    bytes: list[int] | None = None
    """Its UTF-8 bytes."""
    top_logprobs: list[dict[str, Any]] | None = None
    """The most likely alternatives at this position (``token``, ``logprob``, ``bytes``)."""


class ChatLogprobs(Lenient):
    """Log-probabilities of a chat choice."""

    content: list[ChatTokenLogprob] | None = None
    """One entry per generated token of the content."""
    refusal: list[ChatTokenLogprob] | None = None
    """One entry per generated token of a refusal."""


class ChatCompletionToolCallFunction(Lenient):
    """The function a tool call calls."""

    name: str = ""
    """The function's name."""
    arguments: str = ""
    """The arguments as JSON text, as generated: parse it, it may not be valid JSON."""


class ChatCompletionMessageToolCall(Lenient):
    """One tool call in an answer."""

    id: str = ""
    """The call's id; answer it with a tool message carrying this ``tool_call_id``."""
    type: str = "function"
    """Always ``function``."""
    function: ChatCompletionToolCallFunction = Field(default_factory=ChatCompletionToolCallFunction)
    """The function called and its arguments."""


class ChatCompletionMessage(Lenient):
    """The model's answer: text, tool calls, or both."""

    role: str = "assistant"
    """Always ``assistant``."""
    content: str | None = None
    """The text; None when the answer is only tool calls."""
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    """The tool calls the model made, if any."""
    refusal: str | None = None
    """The model's refusal message, if it refused."""
    reasoning: str | None = Field(default=None, validation_alias=_REASONING)
    """A reasoning model's thinking before the answer (``reasoning`` or ``reasoning_content``
    on the wire); None when the model did not reason or the server keeps it back."""


class ChatCompletionChoice(Lenient):
    """One answer (``n`` of them when asked)."""

    index: int = 0
    """Position of this choice among the response's choices."""
    message: ChatCompletionMessage = Field(default_factory=ChatCompletionMessage)
    """The answer."""
    finish_reason: str | None = None
    """Why generation stopped: ``stop``, ``length``, ``tool_calls``."""
    logprobs: ChatLogprobs | None = None
    """Log-probabilities, when ``logprobs`` was requested."""


class ChatCompletion(Signed):
    """A full (non-streamed) chat completion response."""

    id: str = ""
    """Server-assigned id (``chatcmpl-...``)."""
    object: str = "chat.completion"
    """Always ``chat.completion``."""
    created: int | None = None
    """Unix time the completion was created."""
    model: str = ""
    """The model that answered."""
    choices: list[ChatCompletionChoice] = Field(default_factory=list)
    """One entry per ``n``."""
    usage: Usage | None = None
    """Token counts, when the server reports them."""
    system_fingerprint: str | None = None
    """Backend configuration fingerprint (OpenAI; vLLM does not send it)."""


class _Delta(BaseModel):
    """Base of streamed parts: undeclared fields are dropped (decoded once per token)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)


class ChoiceDeltaToolCallFunction(_Delta):
    """A piece of a streamed tool call's function."""

    name: str | None = None
    """The function's name (OpenAI sends it once; llama.cpp repeats it in every piece)."""
    arguments: str | None = None
    """The next piece of the JSON arguments."""


class ChoiceDeltaToolCall(_Delta):
    """A piece of one streamed tool call; pieces with the same ``index`` are one call."""

    index: int | None = None
    """Which tool call of the answer this piece belongs to."""
    id: str | None = None
    """The call's id (in the first piece; llama.cpp repeats it)."""
    type: str | None = None
    """``function``, when sent."""
    function: ChoiceDeltaToolCallFunction | None = None
    """The function's name and a piece of its arguments."""


class ChoiceDelta(_Delta):
    """What one streamed event adds to a choice's message."""

    role: str | None = None
    """``assistant``, in the first event."""
    content: str | None = None
    """New text, if any."""
    tool_calls: list[ChoiceDeltaToolCall] | None = None
    """Pieces of tool calls, if any."""
    refusal: str | None = None
    """New refusal text, if any."""
    reasoning: str | None = Field(default=None, validation_alias=_REASONING)
    """New reasoning text, if any (``reasoning`` or ``reasoning_content`` on the wire)."""


class ChatCompletionChunkChoice(_Delta):
    """One choice's part of a streamed event."""

    index: int = 0
    """Position of this choice among the response's choices."""
    delta: ChoiceDelta = Field(default_factory=ChoiceDelta)
    """What this event adds to the message."""
    finish_reason: str | None = None
    """Why generation stopped; None on every event but the choice's last."""
    logprobs: ChatLogprobs | None = None
    """Log-probabilities of this event's tokens, when requested."""


class ChatCompletionChunk(Signed):
    """One streamed event of a chat completion."""

    id: str = ""
    """Server-assigned id, the same on every chunk of a stream."""
    object: str = "chat.completion.chunk"
    """Always ``chat.completion.chunk``."""
    created: int | None = None
    """Unix time the completion was created."""
    model: str = ""
    """The model that answers."""
    choices: list[ChatCompletionChunkChoice] = Field(default_factory=list)
    """The choices this event adds to (never empty in what a stream yields)."""
    usage: Usage | None = None
    """Token counts, on the last chunk (or on every chunk, by some backends)."""
    system_fingerprint: str | None = None
    """Backend configuration fingerprint."""


defer_build(
    TextPart,
    ImageURL,
    ImageURLPart,
    SystemMessageParam,
    UserMessageParam,
    FunctionCall,
    ToolCallParam,
    AssistantMessageParam,
    ToolMessageParam,
    FunctionDefinition,
    ToolParam,
    NamedToolChoiceFunction,
    NamedToolChoice,
    TextResponseFormat,
    JSONObjectResponseFormat,
    JSONSchema,
    JSONSchemaResponseFormat,
    StreamOptions,
    ChatCompletionRequest,
    ChatTokenLogprob,
    ChatLogprobs,
    ChatCompletionToolCallFunction,
    ChatCompletionMessageToolCall,
    ChatCompletionMessage,
    ChatCompletionChoice,
    ChatCompletion,
    ChoiceDeltaToolCallFunction,
    ChoiceDeltaToolCall,
    ChoiceDelta,
    ChatCompletionChunkChoice,
    ChatCompletionChunk,
)

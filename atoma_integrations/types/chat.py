"""Pydantic types for ``/v1/chat/completions`` requests and responses.

Requests are strict: roles, tool definitions, tool choice and response format are checked
before anything is sent, and the error names the field (``messages.2.tool.tool_call_id``).
Responses are lenient like the completion types: unknown fields are kept (Atoma adds
``response_hash`` and ``signature``) and OpenAI-only fields are optional. Stream chunk
choices and deltas drop undeclared fields, as completion choices do, because they are
decoded once per streamed token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import Self

from atoma_integrations.types._sampling import SamplingRequest
from atoma_integrations.types.shared import Lenient, NonEmptyStr, Usage, defer_build

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
    "JSONObjectResponseFormat",
    "JSONSchema",
    "JSONSchemaResponseFormat",
    "MessageParam",
    "NamedToolChoice",
    "NamedToolChoiceFunction",
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

# OpenAI's rule for function names; llama.cpp and vLLM build grammars from them too.
_FUNCTION_NAME = r"^[a-zA-Z0-9_-]{1,64}$"


class _Param(BaseModel):
    """Base of request parts: strict, immutable, unknown keys rejected (typos fail early)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


# --- request: messages ----------------------------------------------------------------


class TextPart(_Param):
    """One text part of a message whose content is a list."""

    type: Literal["text"]
    """Always ``text`` (only text parts are supported)."""
    text: str
    """The text."""


Content = str | Annotated[list[TextPart], Field(min_length=1)]


class SystemMessageParam(_Param):
    """Instructions for the model."""

    role: Literal["system"]
    """Always ``system``."""
    content: Content
    """The instructions: a string or a list of text parts."""
    name: NonEmptyStr | None = None
    """An optional participant name."""


class UserMessageParam(_Param):
    """What the user said."""

    role: Literal["user"]
    """Always ``user``."""
    content: Content
    """The user's words: a string or a list of text parts."""
    name: NonEmptyStr | None = None
    """An optional participant name."""


class FunctionCall(_Param):
    """The function an assistant message called, with its JSON arguments."""

    name: Annotated[str, Field(pattern=_FUNCTION_NAME)]
    """The function's name."""
    arguments: str
    """The arguments as a JSON text, exactly as the model produced them."""


class ToolCallParam(_Param):
    """One tool call of an earlier assistant message, sent back with the conversation."""

    id: NonEmptyStr
    """The call's id; the tool message answering it repeats it as ``tool_call_id``."""
    type: Literal["function"] = "function"
    """Always ``function``."""
    function: FunctionCall
    """The function called."""


class AssistantMessageParam(_Param):
    """An earlier answer of the model: text, tool calls, or both."""

    role: Literal["assistant"]
    """Always ``assistant``."""
    content: Content | None = None
    """The answer's text; may be None when ``tool_calls`` is set (then sent as ``""``)."""
    tool_calls: Annotated[list[ToolCallParam], Field(min_length=1)] | None = None
    """The tool calls the model made."""
    name: NonEmptyStr | None = None
    """An optional participant name."""
    refusal: str | None = None
    """The model's refusal message, if it refused."""

    @model_validator(mode="before")
    @classmethod
    def _content_beside_tool_calls(cls, data: Any) -> Any:
        # llama.cpp rejects "content": null; Atoma and OpenAI accept "" beside tool calls.
        if isinstance(data, dict) and data.get("content") is None and data.get("tool_calls"):
            data = {**data, "content": ""}
        return data

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if self.content is None and self.tool_calls is None and self.refusal is None:
            raise ValueError("an assistant message needs content or tool_calls")
        return self


class ToolMessageParam(_Param):
    """The result of a tool call, answering the assistant message that made it."""

    role: Literal["tool"]
    """Always ``tool``."""
    content: Content
    """The tool's output, as text."""
    tool_call_id: NonEmptyStr
    """The ``id`` of the tool call this answers."""


MessageParam = Annotated[
    SystemMessageParam | UserMessageParam | AssistantMessageParam | ToolMessageParam,
    Field(discriminator="role"),
]
"""One message of a conversation; ``role`` says which kind."""


# --- request: tools, tool choice, response format --------------------------------------


class FunctionDefinition(_Param):
    """A function the model may call."""

    name: Annotated[str, Field(pattern=_FUNCTION_NAME)]
    """Its name: letters, digits, ``_`` and ``-``, at most 64."""
    description: str | None = None
    """What it does; the model reads this to decide when to call it."""
    parameters: dict[str, Any] | None = None
    """Its arguments as a JSON Schema object."""
    strict: bool | None = None
    """Ask the server to follow ``parameters`` exactly (OpenAI's structured outputs)."""


class ToolParam(_Param):
    """A tool the model may call (only functions exist)."""

    type: Literal["function"] = "function"
    """Always ``function``."""
    function: FunctionDefinition
    """The function."""


class NamedToolChoiceFunction(_Param):
    """The function a named tool choice forces."""

    name: NonEmptyStr
    """Its name; it must be one of ``tools``."""


class NamedToolChoice(_Param):
    """Force a call of one named function."""

    type: Literal["function"] = "function"
    """Always ``function``."""
    function: NamedToolChoiceFunction
    """The function to call."""


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice
"""``none``, ``auto``, ``required``, or one named function."""


class TextResponseFormat(_Param):
    """Plain text answers (the default)."""

    type: Literal["text"]
    """Always ``text``."""


class JSONObjectResponseFormat(_Param):
    """Answer with a JSON object, optionally following a schema (vLLM, llama.cpp)."""

    type: Literal["json_object"]
    """Always ``json_object``."""
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    """A JSON Schema the object must follow; an extension OpenAI does not have."""

    model_config = ConfigDict(populate_by_name=True)


class JSONSchema(_Param):
    """A named JSON Schema for ``json_schema`` answers."""

    name: Annotated[str, Field(pattern=_FUNCTION_NAME)]
    """The schema's name."""
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    """The JSON Schema itself."""
    description: str | None = None
    """What the answer is for."""
    strict: bool | None = None
    """Ask the server to follow the schema exactly."""

    model_config = ConfigDict(populate_by_name=True)


class JSONSchemaResponseFormat(_Param):
    """Answer with JSON following a named schema (OpenAI's structured outputs)."""

    type: Literal["json_schema"]
    """Always ``json_schema``."""
    json_schema: JSONSchema
    """The schema."""


ResponseFormat = Annotated[
    TextResponseFormat | JSONObjectResponseFormat | JSONSchemaResponseFormat,
    Field(discriminator="type"),
]


class StreamOptions(_Param):
    """Options of a streamed answer."""

    include_usage: bool | None = None
    """Send the usage on a last ``choices: []`` chunk (Atoma always does)."""


class ChatCompletionRequest(SamplingRequest):
    """The body of ``POST /chat/completions``; fields left as None are not sent.

    The sampling fields (``model``, ``max_tokens``, ``temperature``, ``stop``, ...) come
    from :class:`~atoma_integrations.types._sampling.SamplingRequest`, with the same ranges
    as completions.
    """

    messages: Annotated[list[MessageParam], Field(min_length=1)]
    """The conversation so far, oldest first."""
    tools: Annotated[list[ToolParam], Field(min_length=1)] | None = None
    """Functions the model may call."""
    tool_choice: ToolChoice | None = None
    """Whether and which tool to call: ``none``, ``auto``, ``required`` or a named one."""
    parallel_tool_calls: bool | None = None
    """Allow several tool calls in one answer."""
    response_format: ResponseFormat | None = None
    """``text``, ``json_object`` (with an optional ``schema``) or ``json_schema``."""
    logprobs: bool | None = None
    """Return the log-probability of each generated token."""
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    """With ``logprobs``: also this many most likely alternatives per token (0 to 20)."""
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    """OpenAI's newer name for ``max_tokens`` (llama.cpp ignores it; prefer ``max_tokens``)."""
    stream_options: StreamOptions | None = None
    """Options of a stream (``include_usage``); only with ``create_stream``."""
    stream: Literal[True] | None = None
    """Set by ``create_stream``; not a caller parameter."""

    @field_validator("messages", "tools", "stop", mode="before")
    @classmethod
    def _tuple_as_list(cls, value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Checks across fields, each naming the field at fault."""
        names = [tool.function.name for tool in self.tools or ()]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"tools: each function name must be unique, repeated: {duplicates}")
        choice = self.tool_choice
        if isinstance(choice, NamedToolChoice):
            if choice.function.name not in names:
                raise ValueError(
                    f"tool_choice names the function {choice.function.name!r}, which is not "
                    f"in tools ({', '.join(names) if names else 'no tools were given'})"
                )
        elif choice == "required" and not names:
            raise ValueError("tool_choice 'required' needs tools")
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("top_logprobs needs logprobs=True")
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options is only for create_stream(...)")
        return self


# --- responses -------------------------------------------------------------------------


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


class ChatCompletion(Lenient):
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


class ChatCompletionChunk(Lenient):
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

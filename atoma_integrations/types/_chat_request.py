"""The body of a chat request: tools, tool choice, response format and the request itself.

The messages are in :mod:`atoma_integrations.types._chat_messages`; the sampling fields,
shared with completions, in :mod:`atoma_integrations.types._sampling`. Cross-field rules
(a named tool choice must name a tool) are checked here, each naming the field at fault.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from typing_extensions import Self

from atoma_integrations.types._chat_messages import FUNCTION_NAME, MessageParam, Param
from atoma_integrations.types._sampling import SamplingRequest
from atoma_integrations.types.shared import NonEmptyStr

__all__ = [
    "ChatCompletionRequest",
    "FunctionDefinition",
    "JSONObjectResponseFormat",
    "JSONSchema",
    "JSONSchemaResponseFormat",
    "NamedToolChoice",
    "NamedToolChoiceFunction",
    "ReasoningEffort",
    "ResponseFormat",
    "StreamOptions",
    "TextResponseFormat",
    "ToolChoice",
    "ToolParam",
]


class FunctionDefinition(Param):
    """A function the model may call."""

    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    """Its name: letters, digits, ``_`` and ``-``, at most 64."""
    description: str | None = None
    """What it does; the model reads this to decide when to call it."""
    parameters: dict[str, Any] | None = None
    """Its arguments as a JSON Schema object."""
    strict: bool | None = None
    """Ask the server to follow ``parameters`` exactly (OpenAI's structured outputs)."""


class ToolParam(Param):
    """A tool the model may call (only functions exist)."""

    type: Literal["function"] = "function"
    """Always ``function``."""
    function: FunctionDefinition
    """The function."""


class NamedToolChoiceFunction(Param):
    """The function a named tool choice forces."""

    name: NonEmptyStr
    """Its name; it must be one of ``tools``."""


class NamedToolChoice(Param):
    """Force a call of one named function."""

    type: Literal["function"] = "function"
    """Always ``function``."""
    function: NamedToolChoiceFunction
    """The function to call."""


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice
"""``none``, ``auto``, ``required``, or one named function."""


class TextResponseFormat(Param):
    """Plain text answers (the default)."""

    type: Literal["text"]
    """Always ``text``."""


class JSONObjectResponseFormat(Param):
    """Answer with a JSON object, optionally following a schema (vLLM, llama.cpp)."""

    type: Literal["json_object"]
    """Always ``json_object``."""
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    """A JSON Schema the object must follow; an extension OpenAI does not have."""

    model_config = ConfigDict(populate_by_name=True)


class JSONSchema(Param):
    """A named JSON Schema for ``json_schema`` answers."""

    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    """The schema's name."""
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    """The JSON Schema itself."""
    description: str | None = None
    """What the answer is for."""
    strict: bool | None = None
    """Ask the server to follow the schema exactly."""

    model_config = ConfigDict(populate_by_name=True)


class JSONSchemaResponseFormat(Param):
    """Answer with JSON following a named schema (OpenAI's structured outputs)."""

    type: Literal["json_schema"]
    """Always ``json_schema``."""
    json_schema: JSONSchema
    """The schema."""


ResponseFormat = Annotated[
    TextResponseFormat | JSONObjectResponseFormat | JSONSchemaResponseFormat,
    Field(discriminator="type"),
]


class StreamOptions(Param):
    """Options of a streamed answer."""

    include_usage: bool | None = None
    """Send the usage on a last ``choices: []`` chunk (Atoma always does)."""


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
"""How hard a reasoning model thinks before answering (vLLM's values; models that do not
reason ignore it)."""


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
    # The generation parameters carry their descriptions in Field() (as SamplingRequest's
    # do): the adapters' fields derive theirs from them (``_params``).
    logprobs: bool | None = Field(
        None, description="Return the log-probability of each generated token."
    )
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = Field(
        None,
        description="With ``logprobs``: also this many most likely alternatives per token "
        "(0 to 20).",
    )
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    """OpenAI's newer name for ``max_tokens`` (llama.cpp ignores it; prefer ``max_tokens``)."""
    reasoning_effort: ReasoningEffort | None = Field(
        None,
        description="How hard a reasoning model thinks: ``none``, ``minimal``, ``low``, "
        "``medium``, ``high``, ``xhigh`` or ``max`` (models that do not reason ignore it). "
        "Other switches (``chat_template_kwargs``, ``include_reasoning``) go in "
        "``extra_body``.",
    )
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

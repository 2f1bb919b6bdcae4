"""The messages of a chat request: one class per role, and the content parts they take.

Strict like every request type: a wrong role, an unknown key or a content part the endpoint
does not take fails before anything is sent, and the error names the message
(``messages.2.user.content``). User messages take text and image parts; the other roles
take text only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import Self

from atoma_integrations.types.shared import NonEmptyStr

__all__ = [
    "FUNCTION_NAME",
    "AssistantMessageParam",
    "FunctionCall",
    "ImageURL",
    "ImageURLPart",
    "MessageParam",
    "Param",
    "SystemMessageParam",
    "TextPart",
    "ToolCallParam",
    "ToolMessageParam",
    "UserMessageParam",
]

FUNCTION_NAME = r"^[a-zA-Z0-9_-]{1,64}$"
"""OpenAI's rule for function names; llama.cpp and vLLM build grammars from them too."""


class Param(BaseModel):
    """Base of request parts: strict, immutable, unknown keys rejected (typos fail early)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class TextPart(Param):
    """One text part of a message whose content is a list."""

    type: Literal["text"]
    """Always ``text``."""
    text: str
    """The text."""


class ImageURL(Param):
    """Where an image is: a web address or the image itself as a base64 data URL."""

    url: Annotated[str, Field(pattern=r"^(https?://|data:image/[-+.\w]+;base64,)")]
    """``https://...`` (the server fetches it) or ``data:image/png;base64,...``."""
    detail: Literal["auto", "low", "high"] | None = None
    """How closely the model looks at it (OpenAI's hint; vLLM ignores it)."""


class ImageURLPart(Param):
    """An image in a user message (for models that see images; others answer 400)."""

    type: Literal["image_url"]
    """Always ``image_url``."""
    image_url: ImageURL
    """The image."""


# The part types each role takes; any other is refused by name, before any request.
_TEXT_ONLY = frozenset({"text"})
_USER_PARTS = frozenset({"text", "image_url"})


def _check_part_types(value: Any, allowed: frozenset[str], role: str) -> Any:
    """``value`` unchanged, or a ``ValueError`` naming the first part of a type ``role``
    messages do not take (an audio, video or file part, say)."""
    if isinstance(value, (list, tuple)):
        for position, part in enumerate(value):
            kind = part.get("type") if isinstance(part, dict) else getattr(part, "type", None)
            if kind not in allowed:
                raise ValueError(
                    f"content part {position} is of type {kind!r}: {role} messages take "
                    f"{' and '.join(sorted(allowed))} parts"
                )
    return value


TextContent = str | Annotated[list[TextPart], Field(min_length=1)]
UserContent = (
    str
    | Annotated[
        list[Annotated[TextPart | ImageURLPart, Field(discriminator="type")]],
        Field(min_length=1),
    ]
)


class SystemMessageParam(Param):
    """Instructions for the model."""

    role: Literal["system"]
    """Always ``system``."""
    content: TextContent
    """The instructions: a string or a list of text parts."""
    name: NonEmptyStr | None = None
    """An optional participant name."""

    @field_validator("content", mode="before")
    @classmethod
    def _known_parts(cls, value: Any) -> Any:
        return _check_part_types(value, _TEXT_ONLY, "system")


class UserMessageParam(Param):
    """What the user said, and the images they showed."""

    role: Literal["user"]
    """Always ``user``."""
    content: UserContent
    """The user's words: a string, or a list of text and ``image_url`` parts."""
    name: NonEmptyStr | None = None
    """An optional participant name."""

    @field_validator("content", mode="before")
    @classmethod
    def _known_parts(cls, value: Any) -> Any:
        return _check_part_types(value, _USER_PARTS, "user")


class FunctionCall(Param):
    """The function an assistant message called, with its JSON arguments."""

    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    """The function's name."""
    arguments: str
    """The arguments as a JSON text, exactly as the model produced them."""


class ToolCallParam(Param):
    """One tool call of an earlier assistant message, sent back with the conversation."""

    id: NonEmptyStr
    """The call's id; the tool message answering it repeats it as ``tool_call_id``."""
    type: Literal["function"] = "function"
    """Always ``function``."""
    function: FunctionCall
    """The function called."""


class AssistantMessageParam(Param):
    """An earlier answer of the model: text, tool calls, or both."""

    role: Literal["assistant"]
    """Always ``assistant``."""
    content: TextContent | None = None
    """The answer's text; may be None when ``tool_calls`` is set (then sent as ``""``)."""
    tool_calls: Annotated[list[ToolCallParam], Field(min_length=1)] | None = None
    """The tool calls the model made."""
    name: NonEmptyStr | None = None
    """An optional participant name."""
    refusal: str | None = None
    """The model's refusal message, if it refused."""
    reasoning: str | None = None
    """The model's reasoning for this answer, sent back for models that think across tool
    calls (vLLM's field for interleaved thinking). Leave it out otherwise: it costs tokens."""

    @field_validator("content", mode="before")
    @classmethod
    def _known_parts(cls, value: Any) -> Any:
        return _check_part_types(value, _TEXT_ONLY, "assistant")

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


class ToolMessageParam(Param):
    """The result of a tool call, answering the assistant message that made it."""

    role: Literal["tool"]
    """Always ``tool``."""
    content: TextContent
    """The tool's output, as text."""
    tool_call_id: NonEmptyStr
    """The ``id`` of the tool call this answers."""

    @field_validator("content", mode="before")
    @classmethod
    def _known_parts(cls, value: Any) -> Any:
        return _check_part_types(value, _TEXT_ONLY, "tool")


MessageParam = Annotated[
    SystemMessageParam | UserMessageParam | AssistantMessageParam | ToolMessageParam,
    Field(discriminator="role"),
]
"""One message of a conversation; ``role`` says which kind."""

"""Pydantic types for ``/v1/completions`` requests and responses.

Requests are strict: every range Atoma documents is checked before anything is sent, and
the error names the field. Responses are lenient: unknown fields are kept (Atoma adds
``response_hash`` and ``signature``), OpenAI-only fields are optional, and a choice in chat
shape (``message.content`` / ``delta.content``, from older Atoma deployments) is read as text.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from typing_extensions import Self

from atoma_integrations.types._sampling import SamplingRequest
from atoma_integrations.types.chat import StreamOptions
from atoma_integrations.types.shared import Lenient, NonEmptyStr, Signed, Usage, defer_build

__all__ = [
    "Completion",
    "CompletionChoice",
    "CompletionChunk",
    "CompletionRequest",
    "Logprobs",
]


def _none_as_empty(value: Any) -> Any:
    # A chat-shaped delta may carry ``"content": null`` (the role-only first chunk).
    return "" if value is None else value


class Logprobs(Lenient):
    """Legacy completions log-probabilities; entries may be null (the first echoed token)."""

    tokens: list[str] = Field(default_factory=list)
    """The tokens, as text."""
    token_logprobs: list[float | None] = Field(default_factory=list)
    """Log-probability of each token."""
    top_logprobs: list[dict[str, float] | None] | None = None
    """The most likely alternatives at each position."""
    text_offset: list[int] = Field(default_factory=list)
    """Character offset of each token in the text."""


class CompletionChoice(BaseModel):
    """One generated text (``index`` tells which prompt and which of ``n``).

    Unlike the response around it, a choice drops fields it does not declare: collecting
    them costs a measurable share of decoding each streamed token, and the one extra that
    backends send here, vLLM's ``stop_reason``, is declared.
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    text: Annotated[str, BeforeValidator(_none_as_empty)] = Field(
        default="",
        validation_alias=AliasChoices(
            "text", AliasPath("message", "content"), AliasPath("delta", "content")
        ),
    )
    """The generated text; in a stream chunk, only the new text."""
    index: int = 0
    """Position of this choice among the response's choices."""
    finish_reason: str | None = None
    """Why generation stopped (``stop``, ``length``); None on every chunk but the last."""
    logprobs: Logprobs | None = None
    """Log-probabilities, when ``logprobs`` was requested."""
    stop_reason: int | str | None = None
    """vLLM: the stop string or token id that ended generation, if one did."""


class Completion(Signed):
    """A full (non-streamed) completion response."""

    id: str = ""
    """Server-assigned id (``cmpl-...``)."""
    object: str = "text_completion"
    """Always ``text_completion``."""
    created: int | None = None
    """Unix time the completion was created."""
    model: str = ""
    """The model that answered."""
    choices: list[CompletionChoice] = Field(default_factory=list)
    """One entry per prompt times ``n``."""
    usage: Usage | None = None
    """Token counts, when the server reports them."""
    system_fingerprint: str | None = None
    """Backend configuration fingerprint (OpenAI; vLLM does not send it)."""


class CompletionChunk(Completion):
    """One streamed event: the new text of one or more choices."""


class CompletionRequest(SamplingRequest):
    """The body of ``POST /completions``; fields left as None are not sent.

    Ranges follow Atoma's OpenAPI spec, so a bad value fails here, naming the field,
    instead of as an opaque HTTP 500 from the backend. The sampling fields (``model``,
    ``max_tokens``, ``temperature``, ``stop``, ...) come from :class:`SamplingRequest`.
    Descriptions are in ``Field(description=...)``, for the adapters to take, as there.
    """

    prompt: NonEmptyStr | Annotated[list[NonEmptyStr], Field(min_length=1)] = Field(
        description="The text to complete, or a list of texts."
    )
    logprobs: Annotated[int, Field(ge=0, le=20)] | None = Field(
        None, description="Return log-probabilities of this many most likely tokens (0 to 20)."
    )
    suffix: str | None = Field(
        None, description="Text after the completion (vLLM behind Atoma rejects it)."
    )
    echo: bool | None = Field(
        None, description="Put the prompt in front of the text (most servers: not in streams)."
    )
    best_of: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Generate this many server-side, return the best (often ignored)."
    )
    stream_options: StreamOptions | None = Field(
        None, description="Options of a stream (``include_usage``); only with ``create_stream``."
    )
    stream: Literal[True] | None = Field(
        None, description="Set by ``create_stream``; not a caller parameter."
    )

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt_list(cls, value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    @model_validator(mode="after")
    def _stream_options_need_a_stream(self) -> Self:
        # As for chat: vLLM answers a whole-response request with stream options with an
        # error, which reaches the caller through Atoma as an opaque 500.
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options is only for create_stream(...)")
        return self


defer_build(Logprobs, CompletionChoice, Completion, CompletionChunk, CompletionRequest)

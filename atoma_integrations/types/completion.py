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
)

from atoma_integrations.types._sampling import SamplingRequest
from atoma_integrations.types.shared import Lenient, NonEmptyStr, Usage, defer_build

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


class Completion(Lenient):
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
    """

    prompt: NonEmptyStr | Annotated[list[NonEmptyStr], Field(min_length=1)]
    """The text to complete, or a list of texts."""
    logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    """Return log-probabilities of this many most likely tokens (0 to 20)."""
    suffix: str | None = None
    """Text after the completion (vLLM behind Atoma rejects it)."""
    echo: bool | None = None
    """Put the prompt in front of the generated text."""
    best_of: Annotated[int, Field(ge=1)] | None = None
    """Generate this many server-side and return the best (many backends ignore it)."""
    stream: Literal[True] | None = None
    """Set by ``create_stream``; not a caller parameter."""

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt_list(cls, value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value


defer_build(Logprobs, CompletionChoice, Completion, CompletionChunk, CompletionRequest)

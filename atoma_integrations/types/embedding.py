"""Pydantic types for ``/v1/embeddings`` requests and responses.

The request is strict: an empty list, an empty or non-string input and ``dimensions`` < 1
fail before anything is sent, naming the field (and the position in ``input``). The
response is lenient like a completion (unknown fields kept), but exact where data could be
lost: ``data`` is put in input order by ``index`` whatever order the server sent, and a
base64 vector is decoded to the same floats a ``float`` response carries.
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from atoma_integrations.types.shared import Lenient, NonEmptyStr, Signed, defer_build

__all__ = [
    "CreateEmbeddingResponse",
    "Embedding",
    "EmbeddingRequest",
    "EmbeddingUsage",
    "check_embedding_inputs",
    "decode_base64_vector",
]


def check_embedding_inputs(texts: Sequence[Any], *, name: str = "input") -> None:
    """Raise ValueError naming the first input that is not a non-empty string.

    Shared by the request model and the adapters, which check a whole call's texts once,
    so the position named is the caller's, not the position inside one batch.
    """
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"{name}[{i}] must be a string, got {type(text).__name__}")
        if not text:
            raise ValueError(f"{name}[{i}] is an empty string; embeddings need some text")


def decode_base64_vector(value: str) -> list[float]:
    """A base64 ``embedding`` (little-endian float32, as OpenAI sends it) as floats."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"embedding is a string but not base64: {exc}") from None
    if len(raw) % 4:
        raise ValueError(
            f"a base64 embedding must hold float32 values (4 bytes each), got {len(raw)} bytes"
        )
    vector = array("f")
    vector.frombytes(raw)
    if sys.byteorder == "big":
        vector.byteswap()
    return vector.tolist()


class EmbeddingUsage(Lenient):
    """Token counts of an embeddings request (no completion tokens)."""

    prompt_tokens: int = 0
    """Tokens in the inputs."""
    total_tokens: int = 0
    """Equal to ``prompt_tokens`` for embeddings."""


class Embedding(Lenient):
    """One input's vector; ``index`` is the input's position."""

    embedding: list[float]
    """The vector (decoded from base64 when the server sent it that way)."""
    index: int = 0
    """Position of the input this vector belongs to."""
    object: str = "embedding"
    """Always ``embedding``."""

    @field_validator("embedding", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        if isinstance(value, str):
            return decode_base64_vector(value)
        if isinstance(value, list) and value and isinstance(value[0], list):
            # llama.cpp answers this way for a model without a pooling type.
            raise ValueError(
                f"the server sent {len(value)} vectors (one per token) for one input: "
                "serve the model with a pooling type (mean, cls, last) to get one vector"
            )
        return value


class CreateEmbeddingResponse(Signed):
    """The body of ``POST /embeddings``: one vector per input, in input order."""

    data: list[Embedding] = Field(default_factory=list)
    """The vectors, sorted by ``index`` (the server may send them in any order)."""
    model: str = ""
    """The model that answered."""
    object: str = "list"
    """Always ``list``."""
    usage: EmbeddingUsage | None = None
    """Token counts, when the server reports them."""

    @model_validator(mode="after")
    def _input_order(self) -> CreateEmbeddingResponse:
        data = self.data
        if any(data[i].index > data[i + 1].index for i in range(len(data) - 1)):
            data.sort(key=lambda item: item.index)
        return self

    @property
    def embeddings(self) -> list[list[float]]:
        """The vectors alone, in input order."""
        return [item.embedding for item in self.data]


class EmbeddingRequest(BaseModel):
    """The body of ``POST /embeddings``; fields left as None are not sent."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    model: NonEmptyStr
    """Model id, exactly as ``GET /models`` lists it (Atoma matches case-sensitively)."""
    input: NonEmptyStr | Annotated[list[str], Field(min_length=1)]
    """The text to embed, or a non-empty list of non-empty texts (one vector each)."""
    dimensions: Annotated[int, Field(ge=1)] | None = None
    """Length of the vectors, for models that can shorten them."""
    encoding_format: Literal["float", "base64"] | None = None
    """How vectors travel: JSON floats or base64 float32 (decoded either way)."""
    user: str | None = None
    """An end-user id for abuse monitoring."""

    @field_validator("input", mode="before")
    @classmethod
    def _inputs(cls, value: Any) -> Any:
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, list):
            if not value:
                raise ValueError("input is an empty list; pass at least one text")
            check_embedding_inputs(value)
        elif value is not None and not isinstance(value, str):
            raise ValueError(
                f"input must be a string or a list of strings, got {type(value).__name__}"
            )
        return value


defer_build(EmbeddingUsage, Embedding, CreateEmbeddingResponse, EmbeddingRequest)

"""The sampling fields every generation request shares (completions and chat), checked once.

``CompletionRequest`` and ``ChatCompletionRequest`` both derive from :class:`SamplingRequest`,
so a range or a normal form (a stop string as a list, integer logit_bias keys as strings) is
declared in one place and means the same on both endpoints.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from atoma_integrations.types.shared import NonEmptyStr

__all__ = ["MAX_STOP_SEQUENCES", "SamplingRequest"]

MAX_STOP_SEQUENCES = 4


class SamplingRequest(BaseModel):
    """Base of the request bodies: the sampling fields; None means "not sent".

    Each field's description is in ``Field(description=...)`` rather than a docstring, so
    the adapters' fields can take it from here (``atoma_integrations._params``)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    model: NonEmptyStr = Field(
        description="Model id, exactly as ``GET /models`` lists it (matched case-sensitively)."
    )
    max_tokens: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Most tokens to generate. Atoma reserves 8192 when it is not set."
    )
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = Field(
        None, description="Sampling temperature, 0 (greedy) to 2."
    )
    top_p: Annotated[float, Field(ge=0.0, le=1.0)] | None = Field(
        None, description="Nucleus sampling mass, 0 to 1."
    )
    n: Annotated[int, Field(ge=1)] | None = Field(
        None, description="How many completions per prompt."
    )
    stop: list[NonEmptyStr] | None = Field(
        None, description="Up to 4 sequences that end generation (one string is listed)."
    )
    seed: int | None = Field(None, description="Seed for best-effort deterministic sampling.")
    logit_bias: dict[str, Annotated[float, Field(ge=-100.0, le=100.0)]] | None = Field(
        None, description="Bias per token id, -100 to 100; keys are integer token ids."
    )
    presence_penalty: Annotated[float, Field(ge=-2.0, le=2.0)] | None = Field(
        None, description="Penalty for tokens already present, -2 to 2."
    )
    frequency_penalty: Annotated[float, Field(ge=-2.0, le=2.0)] | None = Field(
        None, description="Penalty proportional to token frequency, -2 to 2."
    )
    user: str | None = Field(None, description="An end-user id for abuse monitoring.")

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, list) and len(value) > MAX_STOP_SEQUENCES:
            raise ValueError(
                f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed, got {len(value)}"
            )
        return value

    @field_validator("logit_bias", mode="before")
    @classmethod
    def _token_id_keys(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        normalized: dict[str, Any] = {}
        for key, bias in value.items():
            if isinstance(key, bool) or not isinstance(key, (int, str)):
                raise ValueError(f"keys must be integer token ids, got {key!r}")
            text = str(key).strip()
            if not text.isdigit():
                raise ValueError(f"keys must be integer token ids, got {key!r}")
            if isinstance(bias, int) and not isinstance(bias, bool):
                bias = float(bias)
            normalized[text] = bias
        return normalized

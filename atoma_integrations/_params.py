"""The generation parameters of the adapters, derived from the client's request models.

The request models (``SamplingRequest``, ``CompletionRequest``, ``ChatCompletionRequest``)
are the one place a parameter is declared: its name, its range, its normal form and its
description. Here the adapters get from them:

- the names (``GENERATION_PARAMS``, ``CHAT_GENERATION_PARAMS``, the reserved body keys),
  computed from the models' fields;
- their pydantic fields (``GenerationFields``, ``ChatGenerationFields``), declared again only
  because a framework class needs typed attributes and its own defaults (``max_tokens`` is
  always sent), with each description read from the request model and every value checked
  by the request model when the adapter is built.

``tests/unit/test_params_source.py`` ties the fields to the models: same names, types the
model accepts, defaults it accepts, descriptions taken from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic import field_validator as _field_validator
from typing_extensions import Self

from atoma_integrations._rules import STREAM_USAGE_DEFAULT
from atoma_integrations.types import ChatCompletionRequest, CompletionRequest
from atoma_integrations.types._sampling import SamplingRequest
from atoma_integrations.types.chat import ReasoningEffort

__all__ = [
    "CHAT_CALL_FIELDS",
    "CHAT_GENERATION_PARAMS",
    "CHAT_RESERVED_BODY_KEYS",
    "COMPLETION_CALL_FIELDS",
    "GENERATION_PARAMS",
    "RESERVED_BODY_KEYS",
    "SAMPLING_PARAMS",
    "ChatGenerationFields",
    "GenerationFields",
]

# What a request is about rather than how to generate: never an adapter's parameter.
_INPUTS = frozenset({"model", "prompt", "messages", "stream"})

# Request fields a call may carry beside the generation parameters, sent as request fields
# rather than extra body, but not adapter fields: the stream's options (set by the stream
# rules) and, for chat, what ``bind_tools`` / structured output / a newer token cap add.
COMPLETION_CALL_FIELDS = frozenset({"stream_options"})
CHAT_CALL_FIELDS = frozenset(
    {
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "stream_options",
        "max_completion_tokens",
    }
)


def _parameters(
    request: type[BaseModel], call_fields: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """The generation parameters of ``request``, in its field order."""
    return tuple(
        name for name in request.model_fields if name not in _INPUTS and name not in call_fields
    )


# The sampling parameters both endpoints share.
SAMPLING_PARAMS = _parameters(SamplingRequest)

# Every generation parameter of the completions client, under the client's names; the
# completion adapters expose the same fields, so a name means the same thing everywhere.
GENERATION_PARAMS = _parameters(CompletionRequest, COMPLETION_CALL_FIELDS)

# The same for chat: chat's logprobs is a flag, with top_logprobs beside it.
CHAT_GENERATION_PARAMS = _parameters(ChatCompletionRequest, CHAT_CALL_FIELDS)

# Body fields an adapter owns; its extra-body field (model_kwargs, additional_kwargs) may not
# set them, or a copy there would silently override the validated field. The completion
# adapters own every field of their request; the chat adapters all but the call fields,
# which a LangChain user may still send through ``model_kwargs`` (the streams' options
# excepted: the stream rules set them).
RESERVED_BODY_KEYS = frozenset(CompletionRequest.model_fields)
CHAT_RESERVED_BODY_KEYS = frozenset(ChatCompletionRequest.model_fields) - (
    CHAT_CALL_FIELDS - {"stream_options"}
)


def _describe(request: type[BaseModel], name: str, note: str = "") -> str:
    """The description of ``request``'s field ``name``, with an adapter's ``note`` after it."""
    description = request.model_fields[name].description
    if not description:
        raise TypeError(f"{request.__name__}.{name} has no description to derive from")
    return f"{description} {note}" if note else description


def _checked(build: Callable[[], BaseModel]) -> BaseModel:
    """``build()``, a client request model; its first error as a ``ValueError`` saying where
    (pydantic's own message counts errors and names the throwaway request)."""
    try:
        return build()
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in error["loc"][1:])
        raise ValueError(f"{message} (at {where})" if where else message) from None


class _SamplingFields(BaseModel):
    """The model and the sampling parameters every adapter has, under the client's names.

    None leaves a parameter out of the request (the server's default applies).
    """

    model_config = ConfigDict(use_attribute_docstrings=True, protected_namespaces=())

    model: str = Field(min_length=1, description=_describe(SamplingRequest, "model"))
    max_tokens: int = Field(
        256,
        description=_describe(
            SamplingRequest, "max_tokens", "The adapters always send it (256 unless set)."
        ),
    )
    temperature: float | None = Field(None, description=_describe(SamplingRequest, "temperature"))
    top_p: float | None = Field(None, description=_describe(SamplingRequest, "top_p"))
    n: int | None = Field(
        None,
        description=_describe(
            SamplingRequest, "n", "Not with streaming: a stream holds one answer."
        ),
    )
    stop: list[str] | None = Field(
        None,
        description=_describe(SamplingRequest, "stop", "A per-call ``stop=`` replaces them."),
    )
    seed: int | None = Field(None, description=_describe(SamplingRequest, "seed"))
    logit_bias: dict[str, float] | None = Field(
        None, description=_describe(SamplingRequest, "logit_bias")
    )
    presence_penalty: float | None = Field(
        None, description=_describe(SamplingRequest, "presence_penalty")
    )
    frequency_penalty: float | None = Field(
        None, description=_describe(SamplingRequest, "frequency_penalty")
    )
    user: str | None = Field(None, description=_describe(SamplingRequest, "user"))
    stream_usage: bool = STREAM_USAGE_DEFAULT
    """Ask for the usage at the end of a stream (``stream_options.include_usage``); Atoma
    always sends it, vLLM and other OpenAI-compatible servers only when asked."""


class GenerationFields(_SamplingFields):
    """The model and generation parameters of the completion adapters (client's names).

    Each value is checked by the client's own request model when the adapter is built, so a
    bad value fails there, naming the field, instead of at the first request.
    """

    logprobs: int | None = Field(None, description=_describe(CompletionRequest, "logprobs"))
    suffix: str | None = Field(None, description=_describe(CompletionRequest, "suffix"))
    echo: bool | None = Field(None, description=_describe(CompletionRequest, "echo"))
    best_of: int | None = Field(None, description=_describe(CompletionRequest, "best_of"))

    @_field_validator(*GENERATION_PARAMS, mode="before")
    @classmethod
    def _same_rules_as_the_client(cls, value: Any, info: ValidationInfo) -> Any:
        """Check each parameter with the client's request model, and take its normal form
        (a stop string as a list, integer logit_bias keys as strings)."""
        if value is None:
            return None
        name = info.field_name or ""
        fields: dict[str, Any] = {"model": "m", "prompt": "p", name: value}
        return getattr(_checked(lambda: CompletionRequest(**fields)), name)

    def generation_defaults(self) -> dict[str, Any]:
        """The generation parameters as set on the adapter (None: not sent)."""
        return {name: getattr(self, name) for name in GENERATION_PARAMS}


_ONE_MESSAGE = ({"role": "user", "content": "x"},)


class ChatGenerationFields(_SamplingFields):
    """The model and generation parameters of the chat adapters (client's names).

    Checked by the client's ``ChatCompletionRequest`` when the adapter is built, as
    :class:`GenerationFields` is by ``CompletionRequest``.
    """

    logprobs: bool | None = Field(None, description=_describe(ChatCompletionRequest, "logprobs"))
    top_logprobs: int | None = Field(
        None, description=_describe(ChatCompletionRequest, "top_logprobs")
    )
    reasoning_effort: ReasoningEffort | None = Field(
        None, description=_describe(ChatCompletionRequest, "reasoning_effort")
    )

    @_field_validator(*CHAT_GENERATION_PARAMS, mode="before")
    @classmethod
    def _same_rules_as_the_client(cls, value: Any, info: ValidationInfo) -> Any:
        """Check each parameter with the client's chat request model (normal form too)."""
        if value is None:
            return None
        name = info.field_name or ""
        fields: dict[str, Any] = {"model": "m", "messages": _ONE_MESSAGE, name: value}
        if name == "top_logprobs":
            # Alone it is refused (it needs logprobs): checked here for its range only.
            fields["logprobs"] = True
        return getattr(_checked(lambda: ChatCompletionRequest(**fields)), name)

    @model_validator(mode="after")
    def _top_logprobs_needs_logprobs(self) -> Self:
        """The client's rule across the two fields, with its message."""
        if self.top_logprobs is not None:
            fields: dict[str, Any] = {
                "model": "m",
                "messages": _ONE_MESSAGE,
                "logprobs": self.logprobs,
                "top_logprobs": self.top_logprobs,
            }
            _checked(lambda: ChatCompletionRequest(**fields))
        return self

    def generation_defaults(self) -> dict[str, Any]:
        """The generation parameters as set on the adapter (None: not sent)."""
        return {name: getattr(self, name) for name in CHAT_GENERATION_PARAMS}

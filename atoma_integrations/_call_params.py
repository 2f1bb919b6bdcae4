"""One adapter call's client parameters: the adapter's defaults, then the call's values.

LangChain and LlamaIndex both pass per-call keyword arguments (``invoke(..., temperature=0)``,
``complete(..., top_k=40)``). A name the request model declares is sent as that request
field, and so validated; any other name goes into the extra body, for backend extras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from atoma_integrations._params import CHAT_GENERATION_PARAMS, GENERATION_PARAMS
from atoma_integrations.resources import ChatCompletionParams, CompletionParams
from atoma_integrations.types import ChatCompletionRequest, CompletionRequest

__all__ = ["chat_params", "completion_params"]

# Every request field but the input (given separately) and ``stream`` (the resource method
# says it), plus the call's own timeout.
_COMPLETION_CALL_NAMES = frozenset(CompletionRequest.model_fields) - {"prompt", "stream"} | {
    "timeout"
}
_CHAT_CALL_NAMES = frozenset(ChatCompletionRequest.model_fields) - {"messages", "stream"} | {
    "timeout"
}


def _with_call_values(
    params: dict[str, Any],
    call_names: frozenset[str],
    stop: list[str] | None,
    overrides: Mapping[str, Any] | None,
    extra_body: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """``params`` with the per-call values: request fields by name, the rest in the extra body."""
    if overrides:
        for name, value in overrides.items():
            if name in call_names:
                params[name] = value
            else:
                extra = dict(extra_body or {})
                extra[name] = value
                extra_body = extra
    if stop is not None:
        params["stop"] = list(stop)
    if extra_body:
        params["extra_body"] = dict(extra_body)
    return params


def completion_params(
    model: str,
    prompt: str,
    defaults: Mapping[str, Any],
    *,
    stop: list[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    extra_body: Mapping[str, Any] | None = None,
) -> CompletionParams:
    """The client call for one prompt: adapter defaults, then per-call values.

    A ``stop`` given for the call replaces the adapter's default rather than adding to it,
    which is what LangChain and LlamaIndex users expect of ``invoke(..., stop=[...])``.
    """
    params: dict[str, Any] = {k: defaults.get(k) for k in GENERATION_PARAMS}
    params["model"] = model
    params["prompt"] = prompt
    return _with_call_values(params, _COMPLETION_CALL_NAMES, stop, overrides, extra_body)  # type: ignore[return-value]


def chat_params(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    defaults: Mapping[str, Any],
    *,
    stop: list[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    extra_body: Mapping[str, Any] | None = None,
) -> ChatCompletionParams:
    """The client call for one conversation: adapter defaults, then per-call values.

    Per-call values with a request field's name (``tools``, ``tool_choice``,
    ``response_format``, a generation parameter, ``model``, ``timeout``) are sent as that
    field; anything else goes into the extra body. ``stop`` replaces the default, as in
    :func:`completion_params`.
    """
    params: dict[str, Any] = {k: defaults.get(k) for k in CHAT_GENERATION_PARAMS}
    params["model"] = model
    params["messages"] = list(messages)
    return _with_call_values(params, _CHAT_CALL_NAMES, stop, overrides, extra_body)  # type: ignore[return-value]

"""The rules every adapter applies to a request, each declared once with one message.

Every entry point (LangChain, LlamaIndex, Ray) calls these functions rather than checking
for itself, so a rule reads the same and raises the same type wherever it is broken. All
of them run before any request is sent. Raised in a pydantic validator (an adapter's
constructor), a ``ValueError`` reaches the caller as pydantic's ``ValidationError``, which
is a ``ValueError`` carrying the same message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from atoma_integrations.resources import ChatCompletionParams, CompletionParams

__all__ = [
    "STREAM_USAGE_DEFAULT",
    "check_extra_body",
    "check_one_answer",
    "prepare_stream",
]

# Whether a stream asks for its usage unless the adapter is told otherwise. Atoma sends the
# usage in every stream; vLLM and other OpenAI-compatible servers only when asked.
STREAM_USAGE_DEFAULT = True

# What holds the answer of one request, where only one answer fits.
OneAnswer = Literal["a stream", "a dataset column"]

# A stream carries one choice; best_of > 1 needs the whole set of candidates before it can
# pick one, which a stream cannot give either.
_STREAM_COUNTS = ("n", "best_of")
# A column keeps one value per row; best_of still returns one answer there.
_ROW_COUNTS = ("n",)


def check_one_answer(params: Mapping[str, Any], where: OneAnswer) -> None:
    """Refuse ``n`` (and, for a stream, ``best_of``) above 1 where one answer fits.

    The other answers would be generated, billed and then lost without a word.
    """
    for name in _STREAM_COUNTS if where == "a stream" else _ROW_COUNTS:
        value = params.get(name)
        if isinstance(value, int) and value > 1:
            raise ValueError(
                f"{name}={value}, but {where} holds one answer per request: use {name}=1"
            )


def prepare_stream(params: CompletionParams | ChatCompletionParams, *, stream_usage: bool) -> None:
    """The rules of every adapter stream, applied to its client call ``params`` in place.

    One answer per stream (:func:`check_one_answer`), and the usage asked for with
    ``stream_options.include_usage`` unless ``stream_usage`` is off or the call set its own
    ``stream_options``.
    """
    check_one_answer(params, "a stream")
    if stream_usage and params.get("stream_options") is None:
        params["stream_options"] = {"include_usage": True}


def check_extra_body(
    extra_body: Mapping[str, Any], reserved: Iterable[str], field: str, owner: str
) -> None:
    """Refuse an adapter's extra-body ``field`` that sets a body field the adapter sends.

    A copy there would silently override the validated field (the extra body is merged
    last), so ``model_kwargs={"temperature": 9}`` would skip the range check.
    """
    clash = sorted(set(reserved).intersection(extra_body))
    if clash:
        names = ", ".join(clash)
        raise ValueError(
            f"{field} must not set {names}: {owner} sends "
            f"{'it' if len(clash) == 1 else 'them'} from its own checked fields and call "
            "arguments"
        )

"""``client.completions``: text completions, whole or streamed (``POST /completions``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import httpx
from typing_extensions import Required, Unpack

from atoma_integrations._config import TimeoutTypes
from atoma_integrations._streaming import (
    AsyncCompletionStream,
    AsyncStreamOpener,
    CompletionStream,
)
from atoma_integrations.resources._base import AsyncAPIResource, SyncAPIResource
from atoma_integrations.resources._shared import build_body, parse_response
from atoma_integrations.types import Completion, CompletionRequest
from atoma_integrations.types.chat import StreamOptions

__all__ = ["AsyncCompletions", "CompletionParams", "Completions", "build_completion_body"]


class CompletionParams(TypedDict, total=False):
    """Keyword arguments of ``completions.create`` and ``create_stream``.

    Names and meanings are those of Atoma's (OpenAI's) ``/v1/completions`` fields; see
    :class:`~atoma_integrations.types.CompletionRequest` for ranges. None means "not sent".
    """

    model: Required[str]
    prompt: Required[str | list[str]]
    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    n: int | None
    stop: str | list[str] | None
    seed: int | None
    logprobs: int | None
    logit_bias: dict[str, float] | dict[int, float] | None
    presence_penalty: float | None
    frequency_penalty: float | None
    suffix: str | None
    echo: bool | None
    best_of: int | None
    user: str | None
    stream_options: Mapping[str, Any] | StreamOptions | None
    """Options of a stream (``{"include_usage": True}``); only with ``create_stream``."""
    extra_body: dict[str, Any] | None
    """Extra JSON fields merged into the body (backend extras such as ``top_k``)."""
    timeout: TimeoutTypes | None
    """Timeout for this call only, in seconds or as an httpx.Timeout."""


PATH = "/completions"


def build_completion_body(
    params: CompletionParams, *, stream: bool
) -> tuple[bytes, httpx.Timeout | None]:
    """Validate ``params`` and encode the JSON body; raises before any request is made."""
    return build_body(CompletionRequest, params, stream=stream, resource="completions")


class Completions(SyncAPIResource):
    """``client.completions``: full and streamed text completions."""

    def create(self, **params: Unpack[CompletionParams]) -> Completion:
        """Complete ``prompt`` and return the whole response."""
        body, timeout = build_completion_body(params, stream=False)
        return parse_response(Completion, self._post(PATH, body, timeout), self._verifier)

    def create_stream(self, **params: Unpack[CompletionParams]) -> CompletionStream:
        """Complete ``prompt`` as a stream of chunks; the request is sent now.

        Retries and HTTP errors happen here, before any event arrived; never once text
        was delivered. Use the stream in a ``with`` block (or close it).
        """
        body, timeout = build_completion_body(params, stream=True)
        return self._post_stream(PATH, body, timeout, CompletionStream)


class AsyncCompletions(AsyncAPIResource):
    """``client.completions`` of the async client."""

    async def create(self, **params: Unpack[CompletionParams]) -> Completion:
        """Complete ``prompt`` and return the whole response."""
        body, timeout = build_completion_body(params, stream=False)
        return parse_response(Completion, await self._post(PATH, body, timeout), self._verifier)

    def create_stream(
        self, **params: Unpack[CompletionParams]
    ) -> AsyncStreamOpener[AsyncCompletionStream]:
        """Complete ``prompt`` as a stream: parameters are checked now, and the request is
        sent (with its retries) by ``async with ... as stream`` or ``await``."""
        body, timeout = build_completion_body(params, stream=True)
        return self._post_stream(PATH, body, timeout, AsyncCompletionStream)

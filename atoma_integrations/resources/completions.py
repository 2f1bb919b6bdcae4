"""``client.completions``: text completions, whole or streamed (``POST /completions``)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import httpx
from typing_extensions import Required, Unpack

from atoma_integrations._config import TimeoutTypes
from atoma_integrations._streaming import AsyncCompletionStream, CompletionStream
from atoma_integrations.resources._shared import build_body, parse_response
from atoma_integrations.types import Completion, CompletionRequest
from atoma_integrations.types.chat import StreamOptions

if TYPE_CHECKING:
    from atoma_integrations._client import AsyncAtomaClient, AtomaClient

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


def build_completion_body(
    params: CompletionParams, *, stream: bool
) -> tuple[bytes, httpx.Timeout | None]:
    """Validate ``params`` and encode the JSON body; raises before any request is made."""
    return build_body(CompletionRequest, params, stream=stream, resource="completions")


class Completions:
    """``client.completions``: full and streamed text completions."""

    def __init__(self, client: AtomaClient) -> None:
        self._client = client

    def create(self, **params: Unpack[CompletionParams]) -> Completion:
        """Complete ``prompt`` and return the whole response."""
        body, timeout = build_completion_body(params, stream=False)
        client = self._client
        response = client._send("POST", client._completions_url, content=body, timeout=timeout)
        return parse_response(Completion, response)

    def create_stream(self, **params: Unpack[CompletionParams]) -> CompletionStream:
        """Complete ``prompt`` as a stream of chunks; the request is sent now.

        Retries happen only here, before any event arrived; never once text was delivered.
        """
        body, timeout = build_completion_body(params, stream=True)
        client = self._client
        response = client._send(
            "POST", client._completions_url, content=body, timeout=timeout, stream=True
        )
        return CompletionStream(response)


class AsyncCompletions:
    """``client.completions`` of the async client."""

    def __init__(self, client: AsyncAtomaClient) -> None:
        self._client = client

    async def create(self, **params: Unpack[CompletionParams]) -> Completion:
        """Complete ``prompt`` and return the whole response."""
        body, timeout = build_completion_body(params, stream=False)
        client = self._client
        response = await client._send(
            "POST", client._completions_url, content=body, timeout=timeout
        )
        return parse_response(Completion, response)

    def create_stream(self, **params: Unpack[CompletionParams]) -> AsyncCompletionStream:
        """Complete ``prompt`` as a stream; parameters are checked now, the request is sent
        on ``async with`` or on the first ``async for`` step."""
        body, timeout = build_completion_body(params, stream=True)
        client = self._client

        def open_response() -> Awaitable[httpx.Response]:
            return client._send(
                "POST", client._completions_url, content=body, timeout=timeout, stream=True
            )

        return AsyncCompletionStream(open_response)

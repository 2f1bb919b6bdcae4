"""The base of every resource: the one way a resource sends a request.

A resource keeps its client's signature verifier (None when off) and hands it to whatever
decodes the answer: ``parse_response`` for whole bodies, the stream for events.

A resource names its route as a path under the client's ``base_url`` (``"/completions"``)
and sends through the client's ``request`` verb, which owns the URL, headers, retries and
error mapping. Streams go through ``_post_stream``: the sync client opens the stream at
once, the async one hands back an :class:`AsyncStreamOpener` (see ``_streaming.py`` for
the opening rule, the same for both).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from atoma_integrations._streaming import AsyncStreamOpener

if TYPE_CHECKING:
    from atoma_integrations._client import AsyncAtomaClient, AtomaClient
    from atoma_integrations._signatures import SignatureVerifier
    from atoma_integrations._streaming import _AsyncStream, _SyncStream

__all__ = ["AsyncAPIResource", "SyncAPIResource"]

_SyncStreamT = TypeVar("_SyncStreamT", bound="_SyncStream[Any]")
_AsyncStreamT = TypeVar("_AsyncStreamT", bound="_AsyncStream[Any]")


class SyncAPIResource:
    """A resource of :class:`~atoma_integrations.AtomaClient` (``completions``, ...)."""

    def __init__(self, client: AtomaClient) -> None:
        self._client = client
        self._verifier = client._verifier

    def _get(self, path: str) -> httpx.Response:
        return self._client.request("GET", path)

    def _post(self, path: str, body: bytes, timeout: httpx.Timeout | None) -> httpx.Response:
        return self._client.request("POST", path, content=body, timeout=timeout)

    def _post_stream(
        self,
        path: str,
        body: bytes,
        timeout: httpx.Timeout | None,
        stream_type: Callable[[httpx.Response, SignatureVerifier | None], _SyncStreamT],
    ) -> _SyncStreamT:
        """Send now (retries included) and return the open stream."""
        response = self._client.request("POST", path, content=body, timeout=timeout, stream=True)
        return stream_type(response, self._verifier)


class AsyncAPIResource:
    """A resource of :class:`~atoma_integrations.AsyncAtomaClient`."""

    def __init__(self, client: AsyncAtomaClient) -> None:
        self._client = client
        self._verifier = client._verifier

    async def _get(self, path: str) -> httpx.Response:
        return await self._client.request("GET", path)

    async def _post(self, path: str, body: bytes, timeout: httpx.Timeout | None) -> httpx.Response:
        return await self._client.request("POST", path, content=body, timeout=timeout)

    def _post_stream(
        self,
        path: str,
        body: bytes,
        timeout: httpx.Timeout | None,
        stream_type: Callable[[httpx.Response, SignatureVerifier | None], _AsyncStreamT],
    ) -> AsyncStreamOpener[_AsyncStreamT]:
        """The opener that sends the request on ``async with`` or ``await``."""
        client = self._client

        def send() -> Awaitable[httpx.Response]:
            return client.request("POST", path, content=body, timeout=timeout, stream=True)

        verifier = self._verifier
        return AsyncStreamOpener(send, lambda response: stream_type(response, verifier))

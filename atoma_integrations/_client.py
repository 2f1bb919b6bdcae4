"""``AtomaClient`` and ``AsyncAtomaClient``: transport, retries, and the resources on top.

Everything that is not I/O (validating parameters, building the body, deciding whether
and how long to wait before a retry, decoding a response) is a plain function shared by
the sync and async clients; only the loops that send requests are written twice. Each
client has one verb, ``request``, through which every resource sends (``resources/_base.py``);
it logs one DEBUG line per attempt on the ``atoma_integrations`` logger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from atoma_integrations._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientConfig,
    TimeoutTypes,
    resolve_config,
)
from atoma_integrations._retries import log_attempt, next_retry_delay, transport_error
from atoma_integrations._signatures import SignatureVerifier, build_verifier
from atoma_integrations._transport import (
    AsyncTransportName,
    async_http_client,
    check_transport,
    sync_http_client,
)
from atoma_integrations.errors import (
    AtomaError,
    status_error_from_response,
)
from atoma_integrations.resources import (
    AsyncChat,
    AsyncCompletions,
    AsyncEmbeddings,
    AsyncModels,
    Chat,
    CompletionParams,
    Completions,
    Embeddings,
    Models,
)
from atoma_integrations.types import build_models

__all__ = ["AsyncAtomaClient", "AtomaClient", "CompletionParams"]

logger = logging.getLogger("atoma_integrations")

def _sleep(seconds: float) -> None:
    time.sleep(seconds)


async def _async_sleep(seconds: float) -> None:
    # Imported here: asyncio is slow to import and the sync client never needs it
    # (when this runs, an event loop, hence asyncio, is already there).
    import asyncio

    await asyncio.sleep(seconds)


class _ClientBase:
    """Configuration shared by the sync and async clients."""

    _config: ClientConfig
    _headers: dict[str, str]
    _verifier: SignatureVerifier | None

    def _configure(
        self,
        api_key: str | SecretStr | None,
        base_url: str | None,
        timeout: TimeoutTypes,
        max_retries: int,
        default_headers: dict[str, str] | None,
        verify_signatures: bool,
        trusted_signers: Sequence[str] | None,
    ) -> None:
        # First: a bad address or a missing 'cryptography' fails before anything is built.
        self._verifier = build_verifier(verify_signatures, trusted_signers)
        build_models()
        self._config = resolve_config(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._headers = self._config.headers()

    @property
    def base_url(self) -> str:
        """The server's base URL, including ``/v1``."""
        return self._config.base_url

    @property
    def max_retries(self) -> int:
        """How many times a failed request is retried, in total."""
        return self._config.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The default timeout of every request."""
        return self._config.timeout

    @property
    def verify_signatures(self) -> bool:
        """Whether every response and stream chunk has its node signature checked."""
        return self._verifier is not None

    @property
    def trusted_signers(self) -> frozenset[str] | None:
        """The Sui addresses allowed to sign, or None for any (or when not verifying)."""
        return None if self._verifier is None else self._verifier.trusted_signers

    def _pickle_args(self) -> dict[str, Any]:
        config, trusted = self._config, self.trusted_signers
        return {
            # A key taken from the environment is read again on unpickling, not stored.
            "api_key": config.api_key if config.api_key_is_explicit else None,
            "base_url": config.base_url,
            "timeout": config.timeout,
            "max_retries": config.max_retries,
            "default_headers": config.default_headers or None,
            "verify_signatures": self.verify_signatures,
            "trusted_signers": None if trusted is None else sorted(trusted),
        }

    def __repr__(self) -> str:
        key = "set" if self._config.api_key is not None else "none"
        return f"{type(self).__name__}(base_url={self._config.base_url!r}, api_key=<{key}>)"


def _rebuild(cls: type[_ClientBase], kwargs: dict[str, Any]) -> _ClientBase:
    return cls(**kwargs)


class AtomaClient(_ClientBase):
    """Synchronous client for Atoma's (or any OpenAI-compatible) API: ``completions``,
    ``chat.completions`` and ``models``.

    One pooled ``httpx.Client`` serves every call and stream; close it with ``close()``
    or a ``with`` block.

    ``verify_signatures=True`` checks the node signature Atoma puts on every response and
    stream chunk of completions, chat and embeddings (``docs/verification.md``): a body
    that fails raises :class:`~atoma_integrations.errors.SignatureVerificationError` before
    it is returned, a chunk before it is yielded, and what passed carries its ``signer``.
    ``trusted_signers`` (Sui addresses) turns it on and accepts only those keys. Needs the
    ``atoma-integrations[verify]`` extra.
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
        verify_signatures: bool = False,
        trusted_signers: Sequence[str] | None = None,
    ) -> None:
        self._configure(
            api_key,
            base_url,
            timeout,
            max_retries,
            default_headers,
            verify_signatures,
            trusted_signers,
        )
        self._owns_http = http_client is None
        self._http = http_client or sync_http_client(self._config.timeout)
        self.completions = Completions(self)
        """Text completions: ``create`` and ``create_stream``."""
        self.chat = Chat(self)
        """Chat completions: ``chat.completions.create`` and ``create_stream``."""
        self.embeddings = Embeddings(self)
        """Embeddings: ``create``, one vector per input text."""
        self.models = Models(self)
        """The models the server serves."""

    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        timeout: httpx.Timeout | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send ``method`` to ``base_url + path`` with retries; the verb every resource uses.

        Returns a successful response (with ``stream=True``, its body not yet read) or
        raises the typed error once retries ran out.
        """
        http, url = self._http, self._config.base_url + path
        max_retries, default = self._config.max_retries, self._config.timeout
        attempt = 0
        while True:
            request = http.build_request(
                method, url, content=content, headers=self._headers, timeout=timeout or default
            )
            error: AtomaError
            started = time.perf_counter()
            try:
                response = http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error = transport_error(exc, request)
                log_attempt(request, None, exc, started, attempt, max_retries)
            else:
                log_attempt(request, response, None, started, attempt, max_retries)
                if response.is_success:
                    return response
                try:
                    response.read()
                except httpx.TransportError:
                    pass
                finally:
                    response.close()
                error = status_error_from_response(response)
            _sleep(next_retry_delay(attempt, max_retries, error))
            attempt += 1

    def close(self) -> None:
        """Close the connection pool (not an ``http_client`` the caller passed in)."""
        if self._owns_http:
            self._http.close()

    @property
    def is_closed(self) -> bool:
        """True once the connection pool is closed."""
        return self._http.is_closed

    def __enter__(self) -> AtomaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._pickle_args()))


class AsyncAtomaClient(_ClientBase):
    """Asynchronous client; the same API as :class:`AtomaClient`, with ``await``.

    Its connection pool belongs to the event loop it is first used on. By default that pool
    is aiohttp's, under httpx's API (``httpx-aiohttp``): under concurrency it serves many
    times more requests per second than httpx's own async pool (``benchmarks/RESULTS.md``).
    ``transport="httpx"`` puts the client on httpx's pool instead (for httpx-level
    features aiohttp lacks, such as HTTP/2 or httpx event hooks on the transport);
    ``http_client=`` (any ``httpx.AsyncClient``) wins over both. A pool the client
    created is closed by ``aclose()``, by ``async with``, or else when its event loop
    shuts down (``asyncio.run`` does that), so no "Unclosed client session" warning is left.

    ``verify_signatures`` and ``trusted_signers``: as for :class:`AtomaClient`.
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: AsyncTransportName | None = None,
        verify_signatures: bool = False,
        trusted_signers: Sequence[str] | None = None,
    ) -> None:
        self._configure(
            api_key,
            base_url,
            timeout,
            max_retries,
            default_headers,
            verify_signatures,
            trusted_signers,
        )
        self._owns_http = http_client is None
        # Checked even when http_client wins: a misspelt name must not pass silently.
        check_transport(transport)
        self._transport = transport
        self._http = http_client or async_http_client(self._config.timeout, transport)
        self.completions = AsyncCompletions(self)
        """Text completions: ``create`` and ``create_stream``."""
        self.chat = AsyncChat(self)
        """Chat completions: ``chat.completions.create`` and ``create_stream``."""
        self.embeddings = AsyncEmbeddings(self)
        """Embeddings: ``create``, one vector per input text."""
        self.models = AsyncModels(self)
        """The models the server serves."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        timeout: httpx.Timeout | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send ``method`` to ``base_url + path`` with retries; the verb every resource uses.

        Returns a successful response (with ``stream=True``, its body not yet read) or
        raises the typed error once retries ran out.
        """
        http, url = self._http, self._config.base_url + path
        max_retries, default = self._config.max_retries, self._config.timeout
        attempt = 0
        while True:
            request = http.build_request(
                method, url, content=content, headers=self._headers, timeout=timeout or default
            )
            error: AtomaError
            started = time.perf_counter()
            try:
                response = await http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error = transport_error(exc, request)
                log_attempt(request, None, exc, started, attempt, max_retries)
            else:
                log_attempt(request, response, None, started, attempt, max_retries)
                if response.is_success:
                    return response
                try:
                    await response.aread()
                except httpx.TransportError:
                    pass
                finally:
                    await response.aclose()
                error = status_error_from_response(response)
            await _async_sleep(next_retry_delay(attempt, max_retries, error))
            attempt += 1

    async def aclose(self) -> None:
        """Close the connection pool (not an ``http_client`` the caller passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def close(self) -> None:
        """Alias of :meth:`aclose`."""
        await self.aclose()

    @property
    def is_closed(self) -> bool:
        """True once the connection pool is closed."""
        return self._http.is_closed

    async def __aenter__(self) -> AsyncAtomaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), {**self._pickle_args(), "transport": self._transport}))

"""Builds the clients' HTTP connection pools: httpx's for sync, aiohttp's for async.

The async client speaks httpx's API on aiohttp's connection pool (the ``httpx-aiohttp``
transport) because httpx's own async pool is the bottleneck under concurrency (measured
in ``benchmarks/RESULTS.md``, W3). Everything above the transport (requests, responses, the
httpx exceptions the client maps to its own) stays httpx's. aiohttp is imported here only,
and only when an async client on it is built, so ``import atoma_integrations`` does not
pay for it.

Two things are added to ``httpx_aiohttp.AiohttpTransport``:

- Errors typed by what happened. Its table maps every ``aiohttp.ClientConnectionError``
  (a refused connection, a server that hung up, a reset) to ``httpx.ConnectTimeout``, which
  would make a reset read as a timeout; here each aiohttp error becomes the httpx error
  httpx's own pool raises for the same event, caused by the aiohttp error.
- A pool closed with its event loop. An ``aiohttp.ClientSession`` left open when its loop
  ends warns "Unclosed client session" and leaves its sockets to warn too. The adapters'
  per-loop clients are never closed by their users, and neither is a client made at the
  top of a script, so the pool registers with its loop the way async generators do and is
  closed by ``loop.shutdown_asyncgens()`` (which ``asyncio.run`` calls), when its client
  is garbage collected, or at interpreter exit for a loop that was never shut down.
  httpx's own pool (``transport="httpx"``) gets the same loop-shutdown and exit closing;
  garbage collection of an unclosed httpx pool is left to httpx.
"""

from __future__ import annotations

import atexit
import contextlib
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import httpx

if TYPE_CHECKING:
    import asyncio

    import aiohttp

__all__ = [
    "ASYNC_TRANSPORTS",
    "DEFAULT_ASYNC_TRANSPORT",
    "AsyncTransportName",
    "async_http_client",
    "check_transport",
    "default_limits",
    "sync_http_client",
]

AsyncTransportName: TypeAlias = Literal["aiohttp", "httpx"]
"""The connection pools an async client can run on."""

ASYNC_TRANSPORTS: tuple[AsyncTransportName, ...] = ("aiohttp", "httpx")
"""Every async transport, the default first."""

DEFAULT_ASYNC_TRANSPORT: AsyncTransportName = "aiohttp"
"""The async client's pool when none is named (the reliability tests switch it)."""

# The most a stream's body yields per network read (httpx-aiohttp's size too).
_CHUNK_SIZE = 16 * 1024


def default_limits() -> httpx.Limits:
    """Pool sizes for both clients.

    An LLM client holds a connection per stream for seconds to minutes, and a thousand
    streams in flight is ordinary batch work: with fewer connections than requests, the
    rest wait for a slot and, past the pool timeout, fail. 1,024 requests in flight through
    one client finish with no wait for a slot. Idle connections kept beyond a burst are
    bounded separately (httpx's pool; aiohttp's closes idle ones after ``keepalive_expiry``).
    """
    return httpx.Limits(max_connections=1024, max_keepalive_connections=64)


def sync_http_client(timeout: httpx.Timeout) -> httpx.Client:
    """httpx's own pool: at raw-httpx speed for one request or stream at a time."""
    return httpx.Client(timeout=timeout, limits=default_limits())


def async_http_client(
    timeout: httpx.Timeout, transport: AsyncTransportName | None = None
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on aiohttp's pool (the default) or on httpx's own."""
    limits = default_limits()
    if check_transport(transport) == "httpx":
        return httpx.AsyncClient(timeout=timeout, transport=_HttpxTransport(limits=limits))
    return _AiohttpClient(timeout=timeout, limits=limits)


def check_transport(transport: object) -> AsyncTransportName:
    """The async transport ``transport`` names (None: the default), or a clear error."""
    if transport is None:
        return DEFAULT_ASYNC_TRANSPORT
    if transport == "aiohttp":
        return "aiohttp"
    if transport == "httpx":
        return "httpx"
    raise ValueError(
        f"transport must be one of {', '.join(map(repr, ASYNC_TRANSPORTS))} (or None for "
        f"the default, {DEFAULT_ASYNC_TRANSPORT!r}), got {transport!r}"
    )


class _HttpxTransport(httpx.AsyncHTTPTransport):
    """httpx's own async pool, closed with the event loop it first ran on."""

    _closer: AsyncGenerator[None, None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closer is None:
            self._closer = _close_with_loop(self._pool.aclose)
        return await super().handle_async_request(request)

    async def aclose(self) -> None:
        closer, self._closer = self._closer, None
        if closer is not None:
            await closer.aclose()
        await super().aclose()


class _AiohttpClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose pools, proxied ones included, are aiohttp's."""

    def _init_transport(  # type: ignore[override]
        self,
        *,
        limits: httpx.Limits,
        transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> httpx.AsyncBaseTransport:
        if transport is not None:
            return transport
        return _aiohttp_transport(limits=limits, **kwargs)

    def _init_proxy_transport(  # type: ignore[override]
        self, proxy: httpx.Proxy, *, limits: httpx.Limits, **kwargs: Any
    ) -> httpx.AsyncBaseTransport:
        return _aiohttp_transport(limits=limits, proxy=proxy, **kwargs)


def _aiohttp_transport(**kwargs: Any) -> httpx.AsyncBaseTransport:
    # The class is defined on first use: defining it imports aiohttp, an import cost that
    # a program using only the sync client should not pay.
    global _transport_class
    if _transport_class is None:
        _transport_class = _define_transport()
    return _transport_class(**kwargs)


_transport_class: type[httpx.AsyncBaseTransport] | None = None


def _define_transport() -> type[httpx.AsyncBaseTransport]:
    import aiohttp
    from httpx_aiohttp import AiohttpTransport
    from httpx_aiohttp.transport import AiohttpResponseStream

    class TypedStream(AiohttpResponseStream):
        """The response body, with aiohttp's errors raised as httpx's."""

        async def __aiter__(self) -> AsyncIterator[bytes]:
            try:
                async for chunk in self._aiohttp_response.content.iter_chunked(_CHUNK_SIZE):
                    yield chunk
            except _AIOHTTP_ERRORS as exc:
                raise httpx_error(exc) from exc

        async def aclose(self) -> None:
            try:
                await self._aiohttp_response.__aexit__(None, None, None)
            except _AIOHTTP_ERRORS as exc:
                raise httpx_error(exc) from exc

    class Transport(AiohttpTransport):
        """httpx-aiohttp's transport: typed errors, a pool closed with its event loop."""

        _closer: AsyncGenerator[None, None] | None = None

        def get_client(self) -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(
                limit=self.limits.max_connections or 0,
                keepalive_timeout=self.limits.keepalive_expiry,
                ssl=self.ssl_context,
            )
            # Cookies are httpx's business, above the transport: a second jar here would
            # only cost time on every request.
            session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
            self._closer = _close_with_loop(session.close)
            # A client dropped unclosed while its loop runs: the loop's finalizer for the
            # closer would come after the session's own __del__ had warned.
            weakref.finalize(session, _close_connector_now, connector).atexit = False
            return session

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            try:
                response = await super().handle_async_request(request)
            except httpx.TransportError as exc:
                cause = exc.__cause__
                if isinstance(cause, _AIOHTTP_ERRORS):
                    raise httpx_error(cause, request) from cause
                raise
            except _AIOHTTP_ERRORS as exc:
                raise httpx_error(exc, request) from exc
            aiohttp_response = getattr(response.stream, "_aiohttp_response", None)
            if aiohttp_response is not None:
                response.stream = TypedStream(aiohttp_response)
            return response

        async def aclose(self) -> None:
            closer, self._closer = self._closer, None
            if closer is not None:
                await closer.aclose()
            await super().aclose()

    _AIOHTTP_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)
    return Transport


def httpx_error(exc: BaseException, request: httpx.Request | None = None) -> httpx.TransportError:
    """The httpx error httpx's own pool raises for the event behind aiohttp's ``exc``."""
    import aiohttp

    error_type: type[httpx.TransportError]
    # Most specific first: aiohttp's timeouts are also connection errors, its connect
    # errors are also OS errors.
    if isinstance(exc, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError):
        error_type = httpx.ProxyError
    elif isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        # aiohttp's connect timeout also covers the wait for a pool slot.
        connecting = isinstance(exc, getattr(aiohttp, "ConnectionTimeoutError", ()))
        error_type = httpx.ConnectTimeout if connecting else httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):
        error_type = httpx.ConnectError
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        error_type = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.InvalidURL):
        error_type = httpx.UnsupportedProtocol
    else:
        # ClientPayloadError (a body cut short), ClientOSError (a reset), and the rest.
        error_type = httpx.ReadError
    message = str(exc) or type(exc).__name__
    return error_type(message, request=request) if request is not None else error_type(message)


# --- Closing a pool with its event loop ------------------------------------------------

# Each parked closer and the loop it belongs to; weak, so a dropped pool is not kept alive.
_open_pools: weakref.WeakKeyDictionary[AsyncGenerator[None, None], asyncio.AbstractEventLoop] = (
    weakref.WeakKeyDictionary()
)


def _close_with_loop(aclose: Callable[[], Awaitable[None]]) -> AsyncGenerator[None, None]:
    """An async generator, parked, whose ``finally`` awaits ``aclose()`` (closing a pool).

    Started here, inside the running loop, it is registered with the loop's async
    generator hooks, so ``loop.shutdown_asyncgens()`` closes it; the exit hook closes it
    for a loop that is still open when the interpreter exits.
    """
    import asyncio

    async def pool_open() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await aclose()

    closer = pool_open()
    step: Any = closer.__anext__()
    with contextlib.suppress(StopIteration):  # StopIteration: it reached the ``yield``
        step.send(None)
    _open_pools[closer] = asyncio.get_running_loop()
    _register_exit_hook()
    return closer


def _close_connector_now(connector: aiohttp.BaseConnector) -> None:
    """Close a dropped session's sockets at once (a garbage-collection callback).

    A weakref callback runs before the collected objects' ``__del__`` methods, so the
    session and connector then find themselves closed and do not warn. Closing the
    sockets needs no await; what awaiting would add (waiting for them to be gone) is not
    needed by anyone any more.
    """
    with contextlib.suppress(Exception):
        connector._close()


_exit_hook_registered = False


def _register_exit_hook() -> None:
    global _exit_hook_registered
    if not _exit_hook_registered:
        _exit_hook_registered = True
        atexit.register(_close_pools_at_exit)


def _close_pools_at_exit() -> None:
    """Close the pools of loops that were never shut down (a loop left open to the end)."""
    for closer, loop in list(_open_pools.items()):
        finished = getattr(closer, "ag_frame", None) is None
        if finished or loop.is_closed() or loop.is_running():
            continue
        # Exiting anyway: a failed close must not replace the program's own exit status.
        with contextlib.suppress(Exception):
            loop.run_until_complete(closer.aclose())

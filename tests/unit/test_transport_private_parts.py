"""The private parts of httpx, httpx-aiohttp and aiohttp that ``_transport.py`` relies on.

``atoma_integrations/_transport.py`` subclasses httpx's client and httpx-aiohttp's transport
and reaches into a few attributes none of them documents. A release that renames one would
otherwise show up as a transport quietly falling back to httpx's pool, aiohttp's errors
escaping untyped, or "Unclosed client session" warnings. Each test here names the private
part it checks and the installed version, so the failure says what to adapt.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from typing import Any

import httpx
import pytest

from atoma_integrations import AsyncAtomaClient

URL = "http://127.0.0.1:9/v1"


def _require(owner: Any, name: str, where: str, distribution: str) -> Any:
    """``owner.name``, or a failure naming the private attribute and the version installed."""
    if not hasattr(owner, name):
        version = importlib.metadata.version(distribution)
        pytest.fail(
            f"{where}.{name} is gone in {distribution} {version}: "
            "atoma_integrations/_transport.py relies on this private part; adapt it, or "
            "bound the version in pyproject.toml",
            pytrace=False,
        )
    return getattr(owner, name)


def _require_parameters(function: Any, names: set[str], where: str, distribution: str) -> None:
    present = set(inspect.signature(function).parameters)
    missing = names - present
    if missing:
        version = importlib.metadata.version(distribution)
        pytest.fail(
            f"{where} no longer takes {sorted(missing)} in {distribution} {version} (it takes "
            f"{sorted(present)}): atoma_integrations/_transport.py overrides it",
            pytrace=False,
        )


def test_httpx_async_client_still_builds_its_transports_through_the_hooks_we_override() -> None:
    init = _require(httpx.AsyncClient, "_init_transport", "httpx.AsyncClient", "httpx")
    _require_parameters(init, {"limits", "transport"}, "httpx.AsyncClient._init_transport", "httpx")
    proxy = _require(httpx.AsyncClient, "_init_proxy_transport", "httpx.AsyncClient", "httpx")
    _require_parameters(
        proxy, {"proxy", "limits"}, "httpx.AsyncClient._init_proxy_transport", "httpx"
    )


async def test_httpx_async_transport_still_keeps_its_pool_in_pool() -> None:
    transport = httpx.AsyncHTTPTransport()
    pool = _require(transport, "_pool", "httpx.AsyncHTTPTransport()", "httpx")
    _require(pool, "aclose", "httpx.AsyncHTTPTransport()._pool", "httpx")
    await transport.aclose()


def test_httpx_aiohttp_response_stream_still_wraps_aiohttps_response() -> None:
    transport_module = pytest.importorskip("httpx_aiohttp.transport")
    stream_type = _require(
        transport_module, "AiohttpResponseStream", "httpx_aiohttp.transport", "httpx-aiohttp"
    )
    stream = stream_type(object())
    _require(stream, "_aiohttp_response", "AiohttpResponseStream(response)", "httpx-aiohttp")


async def test_httpx_aiohttp_transport_still_has_what_our_subclass_uses() -> None:
    async with AsyncAtomaClient(base_url=URL) as client:
        transport = client._http._transport
        for name in ("get_client", "handle_async_request", "limits", "ssl_context"):
            _require(transport, name, "httpx_aiohttp.AiohttpTransport()", "httpx-aiohttp")
        # The hook is really ours: httpx called the override, which built our subclass.
        assert type(transport).__name__ == "Transport"
        session = transport.get_client()
        try:
            connector = session.connector
            _require(connector, "_close", "aiohttp.TCPConnector()", "aiohttp")
        finally:
            await transport.aclose()
            await session.close()


def test_aiohttp_still_has_the_public_names_we_map_errors_from() -> None:
    import aiohttp

    for name in (
        "ClientProxyConnectionError",
        "ClientHttpProxyError",
        "ServerTimeoutError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ClientResponseError",
        "InvalidURL",
        "DummyCookieJar",
        "TCPConnector",
    ):
        _require(aiohttp, name, "aiohttp", "aiohttp")

"""Which connection pool each client runs on, and how a user chooses it.

The transports' behaviour on real sockets (early exit, pooling, timeouts, typed errors,
leaks, no "Unclosed" warnings) is proven by tests/reliability on both async pools; this
file covers construction: defaults, the way back to httpx's pool, ``http_client=``
winning, a misspelt name, pool sizes and pickling.
"""

from __future__ import annotations

import pickle

import httpx
import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient, _transport

URL = "http://127.0.0.1:9/v1"


async def test_the_async_client_runs_on_aiohttps_pool_by_default() -> None:
    from httpx_aiohttp import AiohttpTransport

    async with AsyncAtomaClient(base_url=URL) as client:
        pool = client._http._transport
        assert isinstance(pool, AiohttpTransport)
        assert pool.limits.max_connections == 1024


async def test_transport_httpx_is_the_way_back_to_httpxs_pool() -> None:
    async with AsyncAtomaClient(base_url=URL, transport="httpx") as client:
        pool = client._http._transport
        assert isinstance(pool, httpx.AsyncHTTPTransport)
        assert pool._pool._max_connections == 1024


async def test_an_http_client_passed_in_wins_and_is_not_closed_by_the_client() -> None:
    mine = httpx.AsyncClient()
    client = AsyncAtomaClient(base_url=URL, http_client=mine, transport="httpx")
    assert client._http is mine
    await client.aclose()
    assert not mine.is_closed
    await mine.aclose()


@pytest.mark.parametrize("name", ["requests", "AIOHTTP", "", 1])
def test_a_misspelt_transport_fails_naming_the_choices(name: object) -> None:
    with pytest.raises(ValueError, match="transport must be one of 'aiohttp', 'httpx'"):
        AsyncAtomaClient(base_url=URL, transport=name)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="transport must be one of"):
        AsyncAtomaClient(base_url=URL, http_client=httpx.AsyncClient(), transport=name)  # type: ignore[arg-type]


def test_the_sync_client_stays_on_httpxs_pool() -> None:
    with AtomaClient(base_url=URL) as client:
        assert isinstance(client._http._transport, httpx.HTTPTransport)
        assert client._http._transport._pool._max_connections == 1024


async def test_a_pickled_async_client_keeps_its_transport_choice() -> None:
    for name in (None, "httpx", "aiohttp"):
        client = AsyncAtomaClient(base_url=URL, transport=name)  # type: ignore[arg-type]
        copy = pickle.loads(pickle.dumps(client))
        assert copy._transport == name
        assert type(copy._http._transport) is type(client._http._transport)
        await client.aclose()
        await copy.aclose()


def test_the_default_is_aiohttp() -> None:
    assert _transport.DEFAULT_ASYNC_TRANSPORT == "aiohttp"
    assert _transport.ASYNC_TRANSPORTS[0] == "aiohttp"

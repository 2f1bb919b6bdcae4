"""The adapters' ``transport`` field: which pool their async calls run on.

Every adapter reaches the process-shared clients through ``ClientSettings``; the field
picks the async client's pool (aiohttp's by default, httpx's on request) and survives the
frameworks' serialization and pickling. The pools' behaviour on real sockets is proven by
tests/reliability (on both pools) and one real-server test in tests/integration.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langchain_core.load import dumpd, load
from pydantic import ValidationError

from atoma_integrations._adapters import async_client_for, sync_client_for
from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat, AtomaEmbedding

URL = "http://127.0.0.1:9/v1"

ADAPTERS: dict[str, Callable[..., Any]] = {
    "AtomaLLM": lambda **kw: AtomaLLM(model="m", base_url=URL, **kw),
    "ChatAtoma": lambda **kw: ChatAtoma(model="m", base_url=URL, **kw),
    "AtomaEmbeddings": lambda **kw: AtomaEmbeddings(model="m", base_url=URL, **kw),
    "Atoma": lambda **kw: Atoma(model="m", base_url=URL, context_window=64, **kw),
    "AtomaChat": lambda **kw: AtomaChat(model="m", base_url=URL, context_window=64, **kw),
    "AtomaEmbedding": lambda **kw: AtomaEmbedding(model_name="m", base_url=URL, **kw),
}


def _settings(adapter: Any) -> Any:
    settings = getattr(adapter, "_client_settings", None) or adapter._settings
    return settings()


def _async_pool(adapter: Any) -> httpx.AsyncBaseTransport:
    return async_client_for(_settings(adapter))._http._transport


@pytest.fixture(params=list(ADAPTERS))
def make(request: pytest.FixtureRequest) -> Callable[..., Any]:
    return ADAPTERS[request.param]


async def test_the_async_calls_run_on_aiohttps_pool_by_default(make: Callable[..., Any]) -> None:
    from httpx_aiohttp import AiohttpTransport

    adapter = make()
    assert adapter.transport is None
    assert isinstance(_async_pool(adapter), AiohttpTransport)
    assert isinstance(_async_pool(make(transport="aiohttp")), AiohttpTransport)


async def test_transport_httpx_puts_the_async_calls_on_httpxs_pool(
    make: Callable[..., Any],
) -> None:
    from httpx_aiohttp import AiohttpTransport

    pool = _async_pool(make(transport="httpx"))
    assert isinstance(pool, httpx.AsyncHTTPTransport)
    assert not isinstance(pool, AiohttpTransport)


async def test_adapters_on_different_pools_do_not_share_an_async_client(
    make: Callable[..., Any],
) -> None:
    on_aiohttp, on_httpx = make(), make(transport="httpx")
    assert async_client_for(_settings(on_aiohttp)) is not async_client_for(_settings(on_httpx))
    assert async_client_for(_settings(on_httpx)) is async_client_for(
        _settings(make(transport="httpx"))
    )
    # The sync client has one pool only, so the field does not split it.
    assert sync_client_for(_settings(on_aiohttp)) is sync_client_for(_settings(on_httpx))


@pytest.mark.parametrize("value", ["requests", "AIOHTTP", "", 1])
def test_a_misspelt_transport_fails_naming_the_field(
    make: Callable[..., Any], value: object
) -> None:
    with pytest.raises(ValidationError, match=r"transport\n.*'aiohttp' or 'httpx'"):
        make(transport=value)


def test_pickling_keeps_the_transport(make: Callable[..., Any]) -> None:
    copy = pickle.loads(pickle.dumps(make(transport="httpx")))
    assert copy.transport == "httpx"


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
@pytest.mark.parametrize("name", ["AtomaLLM", "ChatAtoma", "AtomaEmbeddings"])
def test_langchain_serialization_keeps_the_transport(name: str) -> None:
    adapter = ADAPTERS[name](transport="httpx")
    revived = load(
        dumpd(adapter),
        valid_namespaces=["atoma_integrations"],
        allowed_objects=[type(adapter)],
    )
    assert type(revived) is type(adapter)
    assert revived.transport == "httpx"


@pytest.mark.parametrize("name", ["Atoma", "AtomaChat", "AtomaEmbedding"])
def test_llama_index_to_dict_keeps_the_transport(name: str) -> None:
    adapter = ADAPTERS[name](transport="httpx")
    data = adapter.to_dict()
    assert data["transport"] == "httpx"
    assert type(adapter).from_dict(data).transport == "httpx"

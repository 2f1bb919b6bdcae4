"""One connection-settings model behind all six adapters, and the registry of shared clients.

Two adapters with the same effective settings share one sync client and, per event loop, one
async client, whichever framework each belongs to; the caches' keys never hold a key.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx
from pydantic import SecretStr

from atoma_integrations import _registry
from atoma_integrations._settings import (
    ClientSettings,
    ConnectionSettings,
    async_client_for,
    sync_client_for,
)
from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import DEFAULT_CONTEXT_WINDOW, Atoma, AtomaChat, AtomaEmbedding

URL = "http://testserver/v1"
KEY = "sk-atoma-secret-123"

LANGCHAIN: dict[str, Callable[..., Any]] = {
    "AtomaLLM": lambda **kw: AtomaLLM(model="m", **kw),
    "ChatAtoma": lambda **kw: ChatAtoma(model="m", **kw),
    "AtomaEmbeddings": lambda **kw: AtomaEmbeddings(model="e", **kw),
}
LLAMA_INDEX: dict[str, Callable[..., Any]] = {
    "Atoma": lambda **kw: Atoma(model="m", context_window=64, **kw),
    "AtomaChat": lambda **kw: AtomaChat(model="m", context_window=64, **kw),
    "AtomaEmbedding": lambda **kw: AtomaEmbedding(model_name="e", **kw),
}
ADAPTERS = {**LANGCHAIN, **LLAMA_INDEX}


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    """Each test starts with no shared client, and leaves none open."""
    _registry.close_all()
    yield
    _registry.close_all()


def settings_of(adapter: ConnectionSettings) -> ClientSettings:
    return adapter._client_settings()


@pytest.mark.parametrize("langchain", sorted(LANGCHAIN))
@pytest.mark.parametrize("llama_index", sorted(LLAMA_INDEX))
async def test_langchain_and_llama_index_adapters_with_equal_settings_share_clients(
    langchain: str, llama_index: str
) -> None:
    settings = {"base_url": URL, "api_key": KEY, "timeout": 30.0, "max_retries": 1}
    lc = settings_of(LANGCHAIN[langchain](**settings))
    li = settings_of(LLAMA_INDEX[llama_index](**settings))

    assert lc.key == li.key
    assert sync_client_for(lc) is sync_client_for(li)
    assert async_client_for(lc) is async_client_for(li)


def test_settings_taken_from_the_environment_or_passed_are_the_same_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATOMA_BASE_URL", URL)
    monkeypatch.setenv("ATOMA_API_KEY", KEY)
    from_env = settings_of(AtomaLLM(model="m"))
    passed = settings_of(Atoma(model="m", base_url=URL + "/", api_key=KEY, context_window=64))

    assert from_env.key == passed.key
    assert sync_client_for(from_env) is sync_client_for(passed)


@pytest.mark.parametrize(
    "change",
    [
        {"api_key": "sk-other"},
        {"base_url": "http://otherserver/v1"},
        {"timeout": 5.0},
        {"max_retries": 0},
        {"default_headers": {"X-Team": "b"}},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_different_setting_is_a_different_client(change: dict[str, Any]) -> None:
    base: dict[str, Any] = {"base_url": URL, "api_key": KEY, "default_headers": {"X-Team": "a"}}
    one = settings_of(AtomaLLM(model="m", **base))
    other = settings_of(Atoma(model="m", context_window=64, **{**base, **change}))

    assert one.key != other.key
    assert sync_client_for(one) is not sync_client_for(other)


async def test_the_async_transport_splits_async_clients_only() -> None:
    aiohttp = settings_of(ChatAtoma(model="m", base_url=URL, transport="aiohttp"))
    httpx = settings_of(AtomaChat(model="m", base_url=URL, transport="httpx", context_window=64))

    assert sync_client_for(aiohttp) is sync_client_for(httpx)
    assert async_client_for(aiohttp) is not async_client_for(httpx)


def test_a_rotated_environment_key_reaches_a_new_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOMA_BASE_URL", URL)
    monkeypatch.setenv("ATOMA_API_KEY", KEY)
    llm = AtomaLLM(model="m")
    before = sync_client_for(settings_of(llm))
    monkeypatch.setenv("ATOMA_API_KEY", "sk-rotated")
    after = sync_client_for(settings_of(llm))

    assert after is not before
    assert after._headers["Authorization"] == "Bearer sk-rotated"


def test_an_environment_key_is_not_stored_on_the_adapter_nor_pickled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATOMA_BASE_URL", URL)
    monkeypatch.setenv("ATOMA_API_KEY", KEY)
    for name, make in ADAPTERS.items():
        adapter = make()
        assert adapter.api_key is None, name
        assert KEY.encode() not in pickle.dumps(adapter), name
        assert settings_of(adapter).api_key == SecretStr(KEY), name


def test_no_cache_key_or_repr_holds_a_secret() -> None:
    password = "url-password-456"
    header = "header-secret-789"
    url_with_userinfo = f"http://user:{password}@testserver/v1"
    settings = settings_of(
        AtomaLLM(
            model="m", base_url=url_with_userinfo, api_key=KEY, default_headers={"X-Key": header}
        )
    )
    sync_client_for(settings)
    asyncio.run(_use_async_client(settings))
    with respx.mock(using="httpx") as router:
        router.get(url__regex=r"/open_router/models$").respond(404)
        llm = Atoma(model="m", base_url=url_with_userinfo, api_key=KEY)
        assert llm.metadata.context_window == DEFAULT_CONTEXT_WINDOW  # and warned once

    texts = [repr(settings), str(settings), repr(settings.key)]
    texts += [repr(key) for key in _registry.cache_keys()]
    assert len(texts) > 3
    for text in texts:
        for secret in (KEY, password, header):
            assert secret not in text, text


async def _use_async_client(settings: ClientSettings) -> None:
    async_client_for(settings)


def test_clear_forgets_every_client_without_closing_it() -> None:
    settings = settings_of(AtomaLLM(model="m", base_url=URL))
    client = sync_client_for(settings)
    _registry.clear()

    assert _registry.cache_keys() == []
    assert not client.is_closed
    assert sync_client_for(settings) is not client
    client.close()


def test_close_all_closes_every_client_it_can() -> None:
    settings = settings_of(AtomaLLM(model="m", base_url=URL))
    sync = sync_client_for(settings)
    loop = asyncio.new_event_loop()
    try:

        async def make() -> Any:
            return async_client_for(settings)

        # A loop that is not running (a program driving its own loop between runs).
        async_client = loop.run_until_complete(make())
        _registry.close_all()

        assert sync.is_closed
        assert async_client.is_closed
        assert _registry.cache_keys() == []
    finally:
        loop.close()


async def test_aclose_all_closes_the_running_loops_clients() -> None:
    settings = settings_of(ChatAtoma(model="m", base_url=URL))
    sync, async_client = sync_client_for(settings), async_client_for(settings)
    await _registry.aclose_all()

    assert sync.is_closed
    assert async_client.is_closed
    assert async_client_for(settings) is not async_client


@pytest.mark.parametrize("name", sorted(LANGCHAIN))
def test_langchain_dumps_keep_the_headers_and_reference_the_key(name: str) -> None:
    from langchain_core.load import dumps, loads

    adapter = LANGCHAIN[name](base_url=URL, api_key=KEY, default_headers={"X-Team": "a"})
    text = dumps(adapter)
    assert KEY not in text
    loaded = loads(
        text,
        secrets_map={"ATOMA_API_KEY": KEY},
        valid_namespaces=["atoma_integrations"],
        allowed_objects=[type(adapter)],
    )
    assert settings_of(loaded).key == settings_of(adapter).key


@pytest.mark.parametrize("name", sorted(LLAMA_INDEX))
def test_llama_index_dicts_hold_neither_the_key_nor_the_headers(name: str) -> None:
    adapter = LLAMA_INDEX[name](base_url=URL, api_key=KEY, default_headers={"X-Team": "a"})
    data = adapter.to_dict()
    assert "api_key" not in data
    assert "default_headers" not in data
    assert KEY not in adapter.to_json()

"""Fixtures of the reliability suite: the fault-injecting server, a no-wait backoff, and
every test of the async path run on both async transports."""

from __future__ import annotations

import inspect
import ssl
from collections.abc import Iterator
from typing import Any

import httpx._transports.default as httpx_transports
import pytest

from atoma_integrations import AsyncAtomaClient, _client, _transport
from tests.support.fault_server import FaultServer, use_chat_shape

from ._runs import is_chat

_SSL_CONTEXT: list[ssl.SSLContext] = []
_create_ssl_context = httpx_transports.create_ssl_context  # type: ignore[attr-defined]


def _reused_ssl_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
    if not _SSL_CONTEXT:
        _SSL_CONTEXT.append(_create_ssl_context(*args, **kwargs))
    return _SSL_CONTEXT[0]


@pytest.fixture(autouse=True)
def _fast_client_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build each client's TLS context once for the whole suite.

    httpx loads the CA bundle for every new client (about 20 ms, most of a test's time
    here); these tests speak plain HTTP to 127.0.0.1 and never use TLS, and they build
    hundreds of clients.
    """
    monkeypatch.setattr(httpx_transports, "create_ssl_context", _reused_ssl_context)


@pytest.fixture(autouse=True, params=_transport.ASYNC_TRANSPORTS, ids=lambda name: f"{name}-pool")
def async_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The pool every async client of the test runs on: aiohttp's (the default) and httpx's.

    Every guarantee of the async path (early exit closes the connection, a finished stream
    returns it, timeouts, typed connection errors, no leaks) must hold on both; tests that
    never touch the async client run once (see ``pytest_collection_modifyitems``).
    """
    name: _transport.AsyncTransportName = request.param
    monkeypatch.setattr(_transport, "DEFAULT_ASYNC_TRANSPORT", name)
    return name


def _uses_the_async_client(item: pytest.Item) -> bool:
    params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {})
    mode = params.get("mode")
    if isinstance(mode, str):  # "sync", "async", "sync-chat", "async-chat"
        return mode.startswith("async")
    entry = params.get("entry")
    if isinstance(entry, str):  # an adapter entry point: "langchain.astream", ...
        return entry.split(".", 1)[1].startswith("a")
    if "cls" in params:
        return params["cls"] is AsyncAtomaClient
    function = getattr(item, "function", None)
    if function is None:
        return False
    # A test that names the fixture drives the async path itself (in a subprocess, say).
    names_it = "async_transport" in inspect.signature(function).parameters
    return names_it or inspect.iscoroutinefunction(function)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the httpx-pool variant only of tests that use the async client."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("async_transport", "aiohttp") != "aiohttp" and not _uses_the_async_client(
            item
        ):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(autouse=True)
def _answer_shape_follows_the_mode(request: pytest.FixtureRequest) -> Iterator[None]:
    """In a ``-chat`` mode, or for a chat adapter's entry point (``langchain_chat.invoke``),
    the fault server's builders answer in chat shape."""
    callspec = getattr(request.node, "callspec", None)
    params = callspec.params if callspec is not None else {}
    mode, entry = params.get("mode"), params.get("entry")
    chat_mode = isinstance(mode, str) and is_chat(mode)
    chat_entry = isinstance(entry, str) and entry.split(".")[0].endswith("_chat")
    use_chat_shape(chat_mode or chat_entry)
    try:
        yield
    finally:
        use_chat_shape(False)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh scripted server on an ephemeral port of 127.0.0.1, stopped after the test."""
    server = FaultServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry backoff without waiting: the delays the client asked for, in order.

    Both the sync and the async sleep are replaced, so retries are counted at the server
    and the delays checked here, without the test spending seconds asleep.
    """
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)

    async def async_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(_client, "_sleep", sleep)
    monkeypatch.setattr(_client, "_async_sleep", async_sleep)
    return delays

"""Fixtures of the reliability suite: the fault-injecting server and a no-wait backoff."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx._transports.default as httpx_transports
import pytest

from atoma_integrations import _client

from ._runs import is_chat
from .fault_server import FaultServer, use_chat_shape

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

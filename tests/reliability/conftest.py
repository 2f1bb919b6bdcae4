"""Fixtures of the reliability suite: the fault-injecting server and a no-wait backoff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atoma_integrations import _client

from .fault_server import FaultServer


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

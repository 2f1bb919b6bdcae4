"""Fixtures that several unit test modules share."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from atoma_integrations import _registry

if TYPE_CHECKING:
    from tests.support.llama_index_events import Events


@pytest.fixture
def events() -> Iterator[Events]:
    """The instrumentation events LlamaIndex dispatches during the test."""
    # Imported here: only the LlamaIndex tests ask for it, the others need not load LlamaIndex.
    from llama_index.core.instrumentation import get_dispatcher

    from tests.support.llama_index_events import Events

    handler = Events()
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    try:
        yield handler
    finally:
        dispatcher.event_handlers.remove(handler)


@pytest.fixture
def no_sync_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Async methods must not touch the sync client (it would block the event loop).

    Every shared sync client comes from ``_registry.sync_client``, whichever adapter or
    helper asks, so refusing there covers them all.
    """

    def refuse(key: Hashable, build: Any) -> Any:
        raise AssertionError("an async method used the sync client")

    monkeypatch.setattr(_registry, "sync_client", refuse)

"""Fixtures that several unit test modules share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

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

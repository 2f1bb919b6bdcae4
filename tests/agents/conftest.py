"""A fixture starting a scripted server per test (``tests/support/scripted_server.py``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from tests.support.scripted_server import Play, ScriptedServer, Turn


@pytest.fixture
def play() -> Iterator[Play]:
    """``play(turns, **options)``: a started :class:`ScriptedServer`, stopped after the test."""
    servers: list[ScriptedServer] = []

    def start(turns: Sequence[Turn], **options: Any) -> ScriptedServer:
        server = ScriptedServer(turns, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()

"""Fixtures shared by every test (the real local server, a clean environment), and the one
place that marks tests by what they need."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient
from tests.support.relay import Relay, relay_for

ENV_VARS = ("ATOMA_API_KEY", "ATOMASDK_BEARER_AUTH", "ATOMA_BASE_URL")

_TESTS = Path(__file__).parent

# The marker of every test under a directory of tests/ (the markers are declared in
# pyproject.toml). Test modules carry none of these themselves.
_MARKER_OF_DIRECTORY = {"integration": "integration", "notebooks": "notebook", "ray": "ray"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its directory, and ``integration`` wherever it needs the server.

    ``integration`` means "needs the real local server", which is exactly what asking for
    the ``server_base_url`` fixture means, in any directory (a Ray job on the server, a
    notebook, the load test).
    """
    for item in items:
        try:
            directory = item.path.relative_to(_TESTS).parts[0]
        except ValueError:  # a test outside tests/ (a doctest run by path, say)
            directory = ""
        marker = _MARKER_OF_DIRECTORY.get(directory)
        if marker is not None:
            item.add_marker(marker)
        if marker != "integration" and "server_base_url" in getattr(item, "fixturenames", ()):
            item.add_marker("integration")


@pytest.fixture(autouse=True)
def _clean_atoma_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without Atoma variables, so a developer's real key never leaks in."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def server_base_url() -> str:
    """Base URL (with /v1) of the real llama.cpp server that scripts/run_tests.sh starts."""
    url = os.environ.get("TS_BASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TS_BASE_URL is not set: run the suite with `make test`")
        pytest.skip("no local server: run the suite with `make test`")
    return url


@pytest.fixture(scope="session")
def signing_relay(server_base_url: str) -> Iterator[Relay]:
    """The signing relay in front of the local server (``tests/support/relay.py``)."""
    with relay_for(server_base_url) as relay:
        yield relay


@pytest.fixture(scope="session")
def server_model() -> str:
    """The model id the local server serves (the tiny generated model in tests)."""
    return os.environ.get("TS_MODEL_ID", "tiny-llama")


@pytest.fixture(scope="session")
def server_chat_model() -> str:
    """The model id the local server serves chat under (the same id as completions)."""
    return os.environ.get("TS_CHAT_MODEL_ID", "tiny-llama")


@pytest.fixture(scope="session")
def server_embed_model() -> str:
    """The model id the local server serves embeddings under (one vector per input)."""
    return os.environ.get("TS_EMBED_MODEL_ID", "tiny-llama-embed")


@pytest.fixture
def client(server_base_url: str) -> Iterator[AtomaClient]:
    """A sync client on the real server; no retries, so a failure shows at once."""
    with AtomaClient(base_url=server_base_url, max_retries=0) as c:
        yield c


@pytest.fixture
async def async_client(server_base_url: str) -> AsyncAtomaClient:
    """An async client on the real server, closed after the test."""
    c = AsyncAtomaClient(base_url=server_base_url, max_retries=0)
    yield c  # type: ignore[misc]
    await c.aclose()

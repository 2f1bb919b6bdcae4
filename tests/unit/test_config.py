"""Keys, base URLs and timeouts: where they come from and where a key may go."""

from __future__ import annotations

import pickle

import httpx
import pytest

from atoma_integrations import (
    ATOMA_CLOUD_BASE_URL,
    AsyncAtomaClient,
    AtomaClient,
    ConfigurationError,
)
from tests.support.mock_server import MockServer, completion, json_reply

ENV_KEY = "env-key-abc"


def sent_auth(server: MockServer) -> str | None:
    return server.requests[-1].headers.get("authorization")


def test_no_key_for_the_atoma_cloud_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="ATOMA_API_KEY"):
        AtomaClient()


def test_key_from_environment_goes_to_the_atoma_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    client = AtomaClient()
    assert client.base_url == ATOMA_CLOUD_BASE_URL
    assert client._headers["Authorization"] == f"Bearer {ENV_KEY}"


def test_official_sdk_variable_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOMASDK_BEARER_AUTH", "sdk-key")
    assert AtomaClient()._headers["Authorization"] == "Bearer sdk-key"
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    assert AtomaClient()._headers["Authorization"] == f"Bearer {ENV_KEY}"


def test_environment_key_is_not_sent_to_another_explicit_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    server = MockServer([json_reply(200, completion())])
    server.client(base_url="http://elsewhere.example/v1").completions.create(model="m", prompt="p")
    assert sent_auth(server) is None


def test_environment_key_goes_to_atoma_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    monkeypatch.setenv("ATOMA_BASE_URL", "http://testserver/v1")
    server = MockServer([json_reply(200, completion())])
    transport = httpx.MockTransport(server.handle)
    client = AtomaClient(http_client=httpx.Client(transport=transport))
    client.completions.create(model="m", prompt="p")
    assert sent_auth(server) == f"Bearer {ENV_KEY}"
    assert str(server.requests[0].url) == "http://testserver/v1/completions"


def test_explicit_key_goes_where_the_caller_points() -> None:
    server = MockServer([json_reply(200, completion())])
    server.client(api_key="explicit").completions.create(model="m", prompt="p")
    assert sent_auth(server) == "Bearer explicit"


def test_keyless_local_server_gets_no_authorization_header() -> None:
    server = MockServer([json_reply(200, completion())])
    server.client().completions.create(model="m", prompt="p")
    assert sent_auth(server) is None


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        ("http://localhost:8000", "http://localhost:8000/v1"),
        ("http://localhost:8000/", "http://localhost:8000/v1"),
        ("http://localhost:8000/v1/", "http://localhost:8000/v1"),
        ("https://proxy.example/openai/v1", "https://proxy.example/openai/v1"),
    ],
)
def test_base_url_is_normalised(given: str, resolved: str) -> None:
    assert AtomaClient(base_url=given).base_url == resolved


@pytest.mark.parametrize(
    "bad", ["localhost:8000", "ftp://host/v1", "http://", "http://h/v1?x=1", ""]
)
def test_malformed_base_url_is_rejected_naming_it(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        AtomaClient(base_url=bad)


def test_default_timeouts_are_finite() -> None:
    timeout = AtomaClient(base_url="http://localhost/v1").timeout
    assert timeout.connect == 10.0
    assert timeout.read == 120.0


@pytest.mark.parametrize("bad", [-1, 0, "10", True])
def test_bad_timeout_is_rejected(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        AtomaClient(base_url="http://localhost/v1", timeout=bad)  # type: ignore[arg-type]


def test_negative_max_retries_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="max_retries"):
        AtomaClient(base_url="http://localhost/v1", max_retries=-1)


def test_repr_never_shows_the_key() -> None:
    client = AtomaClient(api_key="sk-very-secret", base_url="http://localhost/v1")
    assert "sk-very-secret" not in repr(client)
    assert "sk-very-secret" not in repr(client._config)


def test_pickle_carries_an_explicit_key() -> None:
    client = AtomaClient(api_key="explicit", base_url="http://localhost/v1", max_retries=5)
    copy = pickle.loads(pickle.dumps(client))
    assert copy._headers["Authorization"] == "Bearer explicit"
    assert copy.max_retries == 5 and copy.base_url == client.base_url


def test_pickle_does_not_store_an_environment_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    data = pickle.dumps(AsyncAtomaClient())
    assert ENV_KEY.encode() not in data
    monkeypatch.setenv("ATOMA_API_KEY", "rotated-key")
    assert pickle.loads(data)._headers["Authorization"] == "Bearer rotated-key"


def test_one_connection_pool_is_reused() -> None:
    server = MockServer([json_reply(200, completion())])
    client = server.client()
    http = client._http
    for _ in range(3):
        client.completions.create(model="m", prompt="p")
    assert client._http is http and len(server.requests) == 3
    client.close()
    assert client.is_closed is False  # a caller's http_client is the caller's to close
    own = AtomaClient(base_url="http://localhost/v1")
    own.close()
    assert own.is_closed

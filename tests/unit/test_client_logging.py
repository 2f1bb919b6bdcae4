"""One DEBUG line per request and per retry on the package's logger, never with the key."""

from __future__ import annotations

import logging

import httpx
import pytest

from atoma_integrations import RateLimitError, _client
from tests.support.mock_server import MockServer, chunk, completion, json_reply, sse, stream_reply

KEY = "sk-atoma-very-secret-key-123"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_async_sleep(seconds: float) -> None:
        pass

    monkeypatch.setattr(_client, "_sleep", lambda seconds: None)
    monkeypatch.setattr(_client, "_async_sleep", no_async_sleep)


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("atoma_integrations") and r.levelno == logging.DEBUG
    ]


def test_each_request_is_one_debug_line_with_method_path_status_and_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="atoma_integrations")
    server = MockServer([json_reply(200, completion(), headers={"x-request-id": "req-42"})])
    server.client(api_key=KEY).completions.create(model="m", prompt="p")
    [line] = _lines(caplog)
    assert line.startswith("POST /v1/completions: 200 in ")
    assert "ms" in line and "request id req-42" in line and "attempt 1 of 3" in line


def test_each_retry_is_its_own_line_and_a_transport_error_names_its_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="atoma_integrations")
    server = MockServer(
        [
            httpx.ConnectError("refused"),
            json_reply(429, {"error": "slow down"}, headers={"x-request-id": "req-1"}),
            json_reply(200, completion()),
        ]
    )
    server.client(api_key=KEY).completions.create(model="m", prompt="p")
    lines = _lines(caplog)
    assert [line.split(" in ")[0] for line in lines] == [
        "POST /v1/completions: ConnectError",
        "POST /v1/completions: 429",
        "POST /v1/completions: 200",
    ]
    assert "request id req-1, attempt 2 of 3" in lines[1]
    assert "attempt 3 of 3" in lines[2]


def test_streams_and_gets_are_logged_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="atoma_integrations")
    server = MockServer([stream_reply([sse(chunk("a", "stop"))]), json_reply(200, {"data": []})])
    client = server.client(api_key=KEY)
    with client.completions.create_stream(model="m", prompt="p") as stream:
        list(stream)
    client.models.list()
    assert [line.split(" in ")[0] for line in _lines(caplog)] == [
        "POST /v1/completions: 200",
        "GET /v1/models: 200",
    ]


async def test_the_async_client_logs_the_same_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="atoma_integrations")
    server = MockServer([json_reply(503, {"error": "busy"}), json_reply(200, completion())])
    client = server.async_client(api_key=KEY, max_retries=1)
    await client.completions.create(model="m", prompt="p")
    await client.aclose()
    assert [line.split(" in ")[0] for line in _lines(caplog)] == [
        "POST /v1/completions: 503",
        "POST /v1/completions: 200",
    ]


def test_no_log_line_holds_the_key_even_at_debug_everywhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: httpx's and httpcore's too
    server = MockServer([json_reply(429, {"error": "busy"})])
    with pytest.raises(RateLimitError):
        server.client(api_key=KEY, max_retries=2).completions.create(model="m", prompt="p")
    assert len(_lines(caplog)) == 3
    assert KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert all(KEY not in str(arg) for arg in (record.args or ()))


def test_nothing_is_formatted_when_debug_is_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="atoma_integrations")
    MockServer([json_reply(200, completion())]).client().completions.create(model="m", prompt="p")
    assert _lines(caplog) == []

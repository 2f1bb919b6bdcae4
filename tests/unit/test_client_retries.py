"""Retries: which failures, how many times, how long between, and never mid-stream."""

from __future__ import annotations

import httpx
import pytest

from atoma_integrations import (
    AuthenticationError,
    InternalServerError,
    RateLimitError,
    StreamInterruptedError,
    _client,
)
from tests.support.mock_server import MockServer, chunk, completion, json_reply, sse, stream_reply

ERROR = {"error": {"code": "X", "message": "try later"}}


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps, recorded instead of slept."""
    recorded: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_client, "_sleep", recorded.append)
    monkeypatch.setattr(_client, "_async_sleep", fake_async_sleep)
    return recorded


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(status: int, delays: list[float]) -> None:
    server = MockServer(
        [json_reply(status, ERROR), json_reply(status, ERROR), json_reply(200, completion("ok"))]
    )
    result = server.client(max_retries=2).completions.create(model="m", prompt="p")
    assert result.choices[0].text == "ok"
    assert len(server.requests) == 3
    assert len(delays) == 2


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_client_errors_are_not_retried(status: int, delays: list[float]) -> None:
    server = MockServer([json_reply(status, ERROR), json_reply(200, completion())])
    with pytest.raises(Exception):
        server.client(max_retries=5).completions.create(model="m", prompt="p")
    assert len(server.requests) == 1
    assert delays == []


def test_retries_give_up_after_max_retries_with_the_last_error(delays: list[float]) -> None:
    server = MockServer([json_reply(503, ERROR)])
    with pytest.raises(InternalServerError) as info:
        server.client(max_retries=3).completions.create(model="m", prompt="p")
    assert info.value.status_code == 503
    assert len(server.requests) == 4


def test_backoff_grows_exponentially_with_jitter(delays: list[float]) -> None:
    server = MockServer([json_reply(500, ERROR)])
    with pytest.raises(InternalServerError):
        server.client(max_retries=4).completions.create(model="m", prompt="p")
    bounds = [(0.25, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0)]
    assert len(delays) == 4
    for delay, (low, high) in zip(delays, bounds, strict=True):
        assert low <= delay <= high


def test_retry_after_header_is_honoured(delays: list[float]) -> None:
    server = MockServer(
        [json_reply(429, ERROR, headers={"retry-after": "3"}), json_reply(200, completion())]
    )
    server.client().completions.create(model="m", prompt="p")
    assert delays == [3.0]


def test_connection_errors_are_retried(delays: list[float]) -> None:
    server = MockServer([httpx.ConnectError("refused"), json_reply(200, completion("ok"))])
    result = server.client().completions.create(model="m", prompt="p")
    assert result.choices[0].text == "ok"
    assert len(server.requests) == 2


def test_max_retries_zero_means_one_attempt(delays: list[float]) -> None:
    server = MockServer([json_reply(429, ERROR)])
    with pytest.raises(RateLimitError):
        server.client(max_retries=0).completions.create(model="m", prompt="p")
    assert len(server.requests) == 1


def test_stream_is_retried_before_its_first_event(delays: list[float]) -> None:
    body = sse(chunk("hi", "stop"))
    server = MockServer([json_reply(502, ERROR), stream_reply([body])])
    with server.client().completions.create_stream(model="m", prompt="p") as stream:
        assert [c.choices[0].text for c in stream] == ["hi"]
    assert len(server.requests) == 2


def test_stream_is_never_retried_after_text_arrived(delays: list[float]) -> None:
    dropped = stream_reply([sse(chunk("partial "))], fail_with=httpx.RemoteProtocolError("dropped"))
    server = MockServer([dropped, stream_reply([sse(chunk("again", "stop"))])])
    with pytest.raises(StreamInterruptedError) as info:
        with server.client(max_retries=5).completions.create_stream(
            model="m", prompt="p"
        ) as stream:
            for _ in stream:
                pass
    assert info.value.text == "partial "
    assert len(server.requests) == 1
    assert delays == []


async def test_async_retries_then_succeeds(delays: list[float]) -> None:
    server = MockServer([json_reply(429, ERROR), json_reply(200, completion("ok"))])
    client = server.async_client()
    result = await client.completions.create(model="m", prompt="p")
    assert result.choices[0].text == "ok"
    assert len(server.requests) == 2 and len(delays) == 1


async def test_async_auth_error_is_not_retried(delays: list[float]) -> None:
    server = MockServer([json_reply(401, ERROR)])
    with pytest.raises(AuthenticationError):
        await server.async_client(max_retries=3).completions.create(model="m", prompt="p")
    assert len(server.requests) == 1

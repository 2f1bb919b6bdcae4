"""Error responses become the documented exception types, with everything a user needs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from atoma_integrations import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AtomaError,
    AuthenticationError,
    BadRequestError,
    ContextLengthExceededError,
    InsufficientBalanceError,
    InternalServerError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from tests.support.mock_server import MockServer, json_reply

KEY = "sk-secret-key-123"


def atoma_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def openai_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "text"),
    [
        (
            400,
            atoma_body("REQUEST_ERROR", "Model not supported"),
            BadRequestError,
            "REQUEST_ERROR",
            "Model not supported",
        ),
        (
            400,
            atoma_body("FIAT_PAYMENTS_ONLY", "Only fiat payments are supported"),
            InsufficientBalanceError,
            "FIAT_PAYMENTS_ONLY",
            "fiat",
        ),
        (
            401,
            atoma_body("AUTH_ERROR", "Authentication failed"),
            AuthenticationError,
            "AUTH_ERROR",
            "Authentication failed",
        ),
        (
            402,
            atoma_body("BALANCE_ERROR", "Insufficient balance"),
            InsufficientBalanceError,
            "BALANCE_ERROR",
            "Insufficient balance",
        ),
        (
            403,
            openai_body("forbidden", "permission_error"),
            PermissionDeniedError,
            "permission_error",
            "forbidden",
        ),
        (404, {"detail": "Not Found"}, NotFoundError, None, "Not Found"),
        (
            422,
            {"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]},
            BadRequestError,
            None,
            "field required",
        ),
        (
            429,
            atoma_body("TOO_MANY_REQUESTS", "Too many requests"),
            RateLimitError,
            "TOO_MANY_REQUESTS",
            "Too many requests",
        ),
        (
            500,
            openai_body("boom", "internal_server_error"),
            InternalServerError,
            "internal_server_error",
            "boom",
        ),
        (502, "Bad Gateway from proxy", InternalServerError, None, "Bad Gateway from proxy"),
        (
            503,
            atoma_body("SERVICE_UNAVAILABLE", "Service unavailable"),
            InternalServerError,
            "SERVICE_UNAVAILABLE",
            "Service unavailable",
        ),
        (
            400,
            openai_body(
                "This model's maximum context length is 2048 tokens, "
                "however you requested 5017 tokens",
                "invalid_request_error",
                "context_length_exceeded",
            ),
            ContextLengthExceededError,
            "context_length_exceeded",
            "maximum context length",
        ),
    ],
)
def test_status_maps_to_typed_error(
    status: int, body: Any, cls: type[APIStatusError], code: str | None, text: str
) -> None:
    server = MockServer([json_reply(status, body, headers={"x-request-id": "req-42"})])
    client = server.client(api_key=KEY, max_retries=0)
    with pytest.raises(cls) as info:
        client.completions.create(model="m", prompt="p")
    error = info.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.code == code
    assert error.request_id == "req-42"
    assert text in str(error)
    assert str(status) in str(error)
    assert KEY not in str(error) and KEY not in repr(error)
    assert len(server.requests) == 1


def test_context_overflow_is_also_a_bad_request() -> None:
    assert issubclass(ContextLengthExceededError, BadRequestError)


def test_empty_error_body_still_gives_a_readable_message() -> None:
    server = MockServer([httpx.Response(500, content=b"")])
    with pytest.raises(InternalServerError, match="no message"):
        server.client(max_retries=0).completions.create(model="m", prompt="p")


def test_long_server_messages_are_shortened() -> None:
    server = MockServer([json_reply(400, atoma_body("REQUEST_ERROR", "x" * 5000))])
    with pytest.raises(BadRequestError) as info:
        server.client(max_retries=0).completions.create(model="m", prompt="p")
    assert len(str(info.value)) < 700
    assert info.value.body == atoma_body("REQUEST_ERROR", "x" * 5000)


def test_connect_error_and_timeout_are_connection_errors() -> None:
    server = MockServer([httpx.ConnectError("refused")])
    with pytest.raises(APIConnectionError, match="refused") as info:
        server.client(max_retries=0).completions.create(model="m", prompt="p")
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    server = MockServer([httpx.ReadTimeout("slow")])
    with pytest.raises(APITimeoutError, match="timed out"):
        server.client(max_retries=0).completions.create(model="m", prompt="p")


async def test_async_errors_are_typed_too() -> None:
    server = MockServer([json_reply(401, atoma_body("AUTH_ERROR", "Authentication failed"))])
    client = server.async_client(max_retries=0)
    with pytest.raises(AuthenticationError):
        await client.completions.create(model="m", prompt="p")
    with pytest.raises(AuthenticationError):
        async with client.completions.create_stream(model="m", prompt="p"):
            pass
    with pytest.raises(AuthenticationError):
        await client.completions.create_stream(model="m", prompt="p")


def test_stream_open_error_is_typed() -> None:
    server = MockServer([json_reply(404, {"detail": "Not Found"})])
    with pytest.raises(NotFoundError):
        server.client(max_retries=0).completions.create_stream(model="m", prompt="p")


def test_invalid_success_body_is_an_atoma_error_not_a_crash() -> None:
    server = MockServer([json_reply(200, {"choices": "nope"})])
    with pytest.raises(MalformedResponseError, match="not a valid Completion") as info:
        server.client().completions.create(model="m", prompt="p")
    assert isinstance(info.value, AtomaError)
    assert "choices" in str(info.value) and "/completions" in str(info.value)


def test_success_body_that_is_not_json_is_a_malformed_response() -> None:
    server = MockServer([httpx.Response(200, content=b"<html>gateway</html>")])
    with pytest.raises(MalformedResponseError, match="not a valid Completion") as info:
        server.client().completions.create(model="m", prompt="p")
    assert "<html>gateway" in str(info.value)


def test_models_answer_that_is_not_json_is_a_malformed_response() -> None:
    server = MockServer([httpx.Response(200, content=b"not json")])
    with pytest.raises(MalformedResponseError, match="/open_router/models is not JSON"):
        server.client().models.context_lengths()

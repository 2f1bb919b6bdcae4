"""Every HTTP error status, in every body shape, becomes the documented typed error.

Each fault is served by a real socket and checked through the sync and the async client,
for whole completions and for streams: the exception type, ``status_code``, ``code``, the
server's own message, the ``x-request-id``, and how many requests reached the server.
Retries are counted at the server, with the backoff sleep patched out (``backoff``).
"""

from __future__ import annotations

import email.utils
import time

import pytest

from atoma_integrations import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InsufficientBalanceError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from tests.support.fault_server import (
    FaultServer,
    NoAnswer,
    completion_reply,
    completion_stream,
    error_reply,
)

from ._runs import MODES, endpoint_path, run_create, run_stream

# (status, Atoma's code, Atoma's message, error type with a JSON body, with a text body)
FAULTS: list[tuple[int, str, str, type[APIStatusError], type[APIStatusError]]] = [
    (401, "AUTH_ERROR", "Authentication failed", AuthenticationError, AuthenticationError),
    (
        402,
        "BALANCE_ERROR",
        "Insufficient balance",
        InsufficientBalanceError,
        InsufficientBalanceError,
    ),
    # Only the code tells a fiat-balance failure from another 400, so a plain-text body
    # (no code) is an ordinary BadRequestError that still quotes the server's message.
    (
        400,
        "FIAT_PAYMENTS_ONLY",
        "Only fiat payments are supported",
        InsufficientBalanceError,
        BadRequestError,
    ),
    (404, "NOT_FOUND", "Resource not found", NotFoundError, NotFoundError),
    (422, "UNPROCESSABLE", "prompt: field required", BadRequestError, BadRequestError),
    (429, "TOO_MANY_REQUESTS", "Too many requests", RateLimitError, RateLimitError),
    (
        500,
        "INTERNAL_ERROR",
        "Internal server error occurred",
        InternalServerError,
        InternalServerError,
    ),
    (502, "BAD_GATEWAY", "Bad gateway from the node", InternalServerError, InternalServerError),
    (503, "SERVICE_UNAVAILABLE", "Service unavailable", InternalServerError, InternalServerError),
    (
        504,
        "GATEWAY_TIMEOUT",
        "The node did not answer in time",
        InternalServerError,
        InternalServerError,
    ),
]
STYLES = ("atoma", "openai", "text")
RETRYABLE = {429, 500, 502, 503, 504}


def _fault_id(fault: tuple[int, str, str, type, type]) -> str:
    return f"{fault[0]}-{fault[1]}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("fault", FAULTS, ids=_fault_id)
async def test_status_gives_typed_error_with_status_code_message_and_request_id(
    fault_server: FaultServer,
    fault: tuple[int, str, str, type[APIStatusError], type[APIStatusError]],
    style: str,
    mode: str,
) -> None:
    status, code, message, json_type, text_type = fault
    fault_server.always(
        error_reply(status, style=style, code=code, message=message, request_id=f"req-{status}")
    )

    outcome = await run_create(mode, fault_server.url, max_retries=0)

    error = outcome.error
    expected = text_type if style == "text" else json_type
    assert type(error) is expected, error
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert error.code == (None if style == "text" else code)
    assert error.request_id == f"req-{status}"
    assert message in error.message and message in str(error)
    assert f"req-{status}" in str(error)
    assert len(fault_server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", FAULTS, ids=_fault_id)
async def test_stream_that_fails_before_its_first_event_gives_the_same_typed_error(
    fault_server: FaultServer,
    fault: tuple[int, str, str, type[APIStatusError], type[APIStatusError]],
    mode: str,
) -> None:
    status, code, message, json_type, _ = fault
    fault_server.always(error_reply(status, code=code, message=message, request_id="req-s"))

    outcome = await run_stream(mode, fault_server.url, max_retries=0)

    assert type(outcome.error) is json_type
    assert isinstance(outcome.error, APIStatusError)
    assert (outcome.error.status_code, outcome.error.code) == (status, code)
    assert outcome.error.request_id == "req-s"
    assert outcome.chunks == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", sorted(RETRYABLE))
async def test_failures_forever_retry_exactly_max_retries_then_raise_the_last_error(
    fault_server: FaultServer, backoff: list[float], status: int, mode: str
) -> None:
    fault_server.enqueue(
        *(error_reply(status, request_id=f"req-{attempt}") for attempt in range(1, 4))
    )
    fault_server.always(error_reply(status, request_id="req-unexpected"))

    outcome = await run_create(mode, fault_server.url, max_retries=2)

    assert isinstance(outcome.error, APIStatusError)
    assert outcome.error.status_code == status
    assert outcome.error.request_id == "req-3"  # the last attempt's error, not the first
    assert len(fault_server.requests) == 3
    assert len(backoff) == 2


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [400, 401, 402, 404, 422])
async def test_client_errors_are_never_retried(
    fault_server: FaultServer, backoff: list[float], status: int, mode: str
) -> None:
    fault_server.always(error_reply(status, code="X", message="no"))

    outcome = await run_create(mode, fault_server.url, max_retries=5)

    assert isinstance(outcome.error, APIStatusError)
    assert len(fault_server.requests) == 1
    assert backoff == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("failures", [1, 3])
async def test_n_failures_then_success_returns_the_completion(
    fault_server: FaultServer, backoff: list[float], failures: int, mode: str
) -> None:
    fault_server.enqueue(*[error_reply(503)] * failures, completion_reply("recovered"))

    outcome = await run_create(mode, fault_server.url, max_retries=failures)

    assert outcome.error is None
    assert outcome.text == "recovered"
    assert len(fault_server.requests) == failures + 1
    assert len(backoff) == failures
    # Exponential backoff with full jitter: retry k waits between half and all of 0.5*2^k.
    for attempt, delay in enumerate(backoff):
        assert 0.25 * 2**attempt <= delay <= 0.5 * 2**attempt


@pytest.mark.parametrize("mode", MODES)
async def test_stream_retries_before_its_first_event_then_streams(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.enqueue(error_reply(502), error_reply(429), completion_stream(["Hel", "lo"]))

    outcome = await run_stream(mode, fault_server.url, max_retries=2)

    assert outcome.error is None
    assert outcome.text == "Hello"
    assert len(fault_server.requests) == 3
    assert len(backoff) == 2
    # Every attempt sent the same body.
    assert len({r.body for r in fault_server.requests}) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_one_more_failure_than_max_retries_is_not_hidden(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.enqueue(error_reply(500, request_id="a"), error_reply(500, request_id="b"))
    fault_server.always(completion_reply("too late"))

    outcome = await run_create(mode, fault_server.url, max_retries=1)

    assert isinstance(outcome.error, InternalServerError)
    assert outcome.error.request_id == "b"
    assert len(fault_server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
async def test_retry_after_seconds_is_the_delay_used(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.enqueue(error_reply(429, retry_after="3"), error_reply(503, retry_after="0.25"))
    fault_server.always(completion_reply())

    outcome = await run_create(mode, fault_server.url, max_retries=2)

    assert outcome.error is None
    assert backoff == [3.0, 0.25]
    assert len(fault_server.requests) == 3


@pytest.mark.parametrize("mode", MODES)
async def test_retry_after_http_date_is_honoured(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    fault_server.enqueue(error_reply(429, retry_after=when))
    fault_server.always(completion_reply())

    outcome = await run_create(mode, fault_server.url, max_retries=1)

    assert outcome.error is None
    # HTTP dates have one-second resolution.
    assert len(backoff) == 1 and 3.0 <= backoff[0] <= 5.0


@pytest.mark.parametrize("mode", MODES)
async def test_429_without_retry_after_uses_the_backoff(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.enqueue(error_reply(429), error_reply(429))
    fault_server.always(completion_reply())

    outcome = await run_create(mode, fault_server.url, max_retries=2)

    assert outcome.error is None
    assert len(backoff) == 2
    assert 0.25 <= backoff[0] <= 0.5 and 0.5 <= backoff[1] <= 1.0


@pytest.mark.parametrize("mode", MODES)
async def test_an_absurd_retry_after_is_not_honoured(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.enqueue(error_reply(429, retry_after="3600"))
    fault_server.always(completion_reply())

    outcome = await run_create(mode, fault_server.url, max_retries=1)

    assert outcome.error is None
    assert backoff and backoff[0] <= 0.5  # an hour-long wait would look like a hang


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_hang_up_without_answer_is_a_retried_connection_error(
    fault_server: FaultServer, backoff: list[float], reset: bool, mode: str
) -> None:
    fault_server.always(NoAnswer(reset=reset))

    outcome = await run_create(mode, fault_server.url, max_retries=2)

    assert type(outcome.error) is APIConnectionError
    assert "POST" in str(outcome.error) and endpoint_path(mode) in str(outcome.error)
    assert {r.path for r in fault_server.requests} == {endpoint_path(mode)}
    assert len(fault_server.requests) == 3
    assert len(backoff) == 2


@pytest.mark.parametrize("mode", MODES)
async def test_refused_connection_is_a_retried_connection_error(
    backoff: list[float], mode: str
) -> None:
    with FaultServer() as server:
        url = server.url
    # The server is gone: nothing listens on its port any more.

    outcome = await run_create(mode, url, max_retries=2)

    assert type(outcome.error) is APIConnectionError
    assert len(backoff) == 2

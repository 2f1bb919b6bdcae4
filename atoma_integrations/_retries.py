"""When a failed request is tried again, and the one log line each attempt writes.

Shared by the sync and async clients (``_client``), whose loops only sleep and resend:
which failures are retried, how long to wait (exponential backoff with full jitter, or the
server's ``Retry-After``), the package's error for a transport failure, and the DEBUG line
per attempt on the ``atoma_integrations`` logger.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time

import httpx

from atoma_integrations.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AtomaError,
)

__all__ = ["log_attempt", "next_retry_delay", "retry_delay", "transport_error"]

logger = logging.getLogger("atoma_integrations")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Exponential backoff: 0.5 s, 1 s, 2 s, ... capped at 8 s, with "full jitter" so that many
# clients that failed together do not retry together.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After larger than this is not honoured: failing is more useful than hanging.
MAX_RETRY_AFTER = 60.0


def _retry_after(response: httpx.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    return max(0.0, seconds)


def retry_delay(attempt: int, error: AtomaError) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or None if ``error`` is final.

    Connection errors and 408, 429, 500, 502, 503, 504 are retried. ``Retry-After`` wins
    over the backoff when the server sends one (Atoma does not; others do).
    """
    response: httpx.Response | None = None
    if isinstance(error, APIStatusError):
        if error.status_code not in RETRY_STATUSES:
            return None
        response = error.response
    elif not isinstance(error, APIConnectionError):
        return None
    after = _retry_after(response)
    if after is not None and after <= MAX_RETRY_AFTER:
        return after
    backoff = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2**attempt)
    return random.uniform(backoff / 2, backoff)


def transport_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    """The package's error for an httpx transport failure (no HTTP answer), caused by it."""
    target = f"{request.method} {request.url}"
    error: APIConnectionError
    if isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(
            f"The request to {target} timed out ({type(exc).__name__})", request=request
        )
    else:
        error = APIConnectionError(
            f"Could not get a response from {target}: {type(exc).__name__}: {exc}",
            request=request,
        )
    # Raised later, after retries ran out, so "raise ... from exc" is not available there.
    error.__cause__ = exc
    return error


def next_retry_delay(attempt: int, max_retries: int, error: AtomaError) -> float:
    """The wait before the next attempt; raises ``error`` when it is final or retries ran out."""
    delay = retry_delay(attempt, error) if attempt < max_retries else None
    if delay is None:
        raise error
    logger.info(
        "retrying in %.2fs (retry %d of %d) after: %s", delay, attempt + 1, max_retries, error
    )
    return delay


def log_attempt(
    request: httpx.Request,
    response: httpx.Response | None,
    exc: Exception | None,
    started: float,
    attempt: int,
    max_retries: int,
) -> None:
    """One DEBUG line per attempt: method, path, status (or error), request id, elapsed.

    Never the headers or the body: the key is in the one, prompts are in the other. For a
    stream, the time is to the response headers.
    """
    if not logger.isEnabledFor(logging.DEBUG):
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response is not None:
        outcome = str(response.status_code)
        request_id = response.headers.get("x-request-id") or "none"
    else:
        outcome, request_id = type(exc).__name__, "none"
    logger.debug(
        "%s %s: %s in %.1f ms (request id %s, attempt %d of %d)",
        request.method,
        request.url.path,
        outcome,
        elapsed_ms,
        request_id,
        attempt + 1,
        max_retries + 1,
    )

"""The exceptions this package raises, and the one function that maps an HTTP error to one.

Every error a caller can see derives from :class:`AtomaError`::

    AtomaError
    ├── ConfigurationError            bad client settings (no key for the Atoma cloud, bad URL)
    ├── APIConnectionError            the request never got an HTTP answer
    │   └── APITimeoutError           ... because a timeout fired
    ├── MalformedResponseError        a success status, but the body is not the expected JSON
    ├── StreamInterruptedError        a stream ended early; carries the text received so far
    │   └── MalformedEventError       ... at an event that is not a chunk (also Malformed-
    │                                 ResponseError: either ``except`` catches it)
    ├── SignatureVerificationError    a response or stream chunk failed its signature check
    └── APIStatusError                the server answered with an error status
        ├── BadRequestError           400, 422
        │   └── ContextLengthExceededError
        ├── AuthenticationError       401
        ├── InsufficientBalanceError  402, or code FIAT_PAYMENTS_ONLY / BALANCE_ERROR
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── RateLimitError            429
        └── InternalServerError       5xx

Messages are one readable sentence that includes the server's own message. They never
contain the API key: the key lives only in request headers, which no message quotes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import httpx

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AtomaError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ContextLengthExceededError",
    "InsufficientBalanceError",
    "InternalServerError",
    "MalformedEventError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SignatureFailure",
    "SignatureVerificationError",
    "StreamInterruptedError",
    "status_error_from_response",
]

# Longest server message quoted in an exception; bodies can hold whole tracebacks.
_MAX_MESSAGE_CHARS = 500


class AtomaError(Exception):
    """Base class of every error raised by atoma-integrations."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception pickling calls cls(*args), which keyword-only arguments (status_code)
        # break; an error raised in a process-pool worker must reach the parent intact.
        # The httpx request and response stay behind: the request's headers hold the API
        # key, and a pickle leaves the process (pool results, task queues, caches).
        state = {
            name: None if isinstance(value, (httpx.Request, httpx.Response)) else value
            for name, value in self.__dict__.items()
        }
        return (_restore_error, (type(self), self.args, state))


def _restore_error(cls: type[AtomaError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigurationError(AtomaError, ValueError):
    """The client cannot be built from the given settings (for example, no API key)."""


class APIConnectionError(AtomaError):
    """The request did not get an HTTP response: DNS, refused or dropped connection."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        """What went wrong, as one sentence."""
        self.request = request
        """The request that failed, when known; None in an unpickled copy."""


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout fired before the server answered."""


class MalformedResponseError(AtomaError):
    """The server answered with a success status, but not with what the endpoint returns.

    A body that is not JSON, or JSON of the wrong shape (a missing field, a wrong type, an
    embedding list that does not hold one vector per input). The message names the route,
    what was wrong and how the body starts. Never retried: the request succeeded.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        """What was wrong, as one sentence."""


class StreamInterruptedError(AtomaError):
    """A stream ended without a ``finish_reason``: dropped, malformed, or an error event.

    Nothing is lost silently: ``text`` holds what arrived before the interruption, and for a
    chat stream ``partial_message`` the message so far, tool calls included.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str = "",
        texts: dict[int, str] | None = None,
        usage: Any = None,
        body: Any = None,
        partial_message: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        """What went wrong, as one sentence."""
        self.text = text
        """Text of choice 0 received before the interruption."""
        self.texts = texts if texts is not None else ({0: text} if text else {})
        """Text received per choice index (for ``n > 1``)."""
        self.usage = usage
        """The last :class:`~atoma_integrations.types.Usage` seen, or None."""
        self.body = body
        """The error event's decoded body, when the server sent one in the stream."""
        self.partial_message = partial_message
        """Chat streams: choice 0's :class:`~atoma_integrations.types.ChatCompletionMessage`
        as received (text and tool calls, the last one maybe cut short); else None."""


class MalformedEventError(StreamInterruptedError, MalformedResponseError):
    """A stream event that is not valid JSON, or not of the endpoint's chunk shape.

    The stream stops there, so it is also a :class:`StreamInterruptedError` and carries
    what arrived before the bad event (``text``, ``usage``, ``partial_message``).
    """


SignatureFailure = Literal[
    "unsigned",
    "unverifiable_layout",
    "hash_mismatch",
    "unknown_scheme",
    "bad_signature",
    "untrusted_signer",
]
"""Why a signature check failed: the ``reason`` of :class:`SignatureVerificationError`."""


class SignatureVerificationError(AtomaError):
    """A response or stream chunk failed its signature check; never retried.

    ``reason`` says which check failed: ``unsigned`` (no ``signature`` or ``response_hash``),
    ``unverifiable_layout`` (the two members are not the body's compact ending, so the signed
    text cannot be recovered), ``hash_mismatch`` (the body is not the text the node hashed),
    ``unknown_scheme`` (a signature flag other than Ed25519, Secp256k1 or Secp256r1),
    ``bad_signature`` (undecodable, or it does not verify) or ``untrusted_signer`` (a valid
    signature by a key outside ``trusted_signers``). In a stream, as for
    :class:`StreamInterruptedError`, ``text``, ``texts``, ``usage`` and ``partial_message``
    hold what was verified and delivered before the failing chunk; nothing after it is.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: SignatureFailure,
        detail: str,
        request_id: str | None = None,
        signer: str | None = None,
        text: str = "",
        texts: dict[int, str] | None = None,
        usage: Any = None,
        partial_message: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        """What went wrong, as one sentence."""
        self.reason: SignatureFailure = reason
        """Which check failed (see the class docstring)."""
        self.detail = detail
        """The failed check in words, without the subject (the message is built from it)."""
        self.request_id = request_id
        """The ``x-request-id`` response header, for support requests."""
        self.signer = signer
        """``untrusted_signer``: the Sui address that did sign; else None."""
        self.text = text
        """Streams: text of choice 0 verified and delivered before the failing chunk."""
        self.texts = texts if texts is not None else ({0: text} if text else {})
        """Streams: text verified and delivered per choice index."""
        self.usage = usage
        """Streams: the last verified :class:`~atoma_integrations.types.Usage`, or None."""
        self.partial_message = partial_message
        """Chat streams: choice 0's message as verified and delivered; else None."""

    def in_stream(
        self,
        what: str,
        *,
        text: str = "",
        texts: dict[int, str] | None = None,
        usage: Any = None,
        partial_message: Any = None,
    ) -> SignatureVerificationError:
        """The same failure, told as a stream's (``what``: "completion", "chat completion")
        and carrying what the stream verified and delivered before the failing chunk."""
        texts = texts if texts is not None else ({0: text} if text else {})
        delivered = sum(len(t) for t in texts.values())
        message = (
            f"The {what} stream stopped at a chunk that failed its signature check: "
            f"{self.detail} ({delivered} verified characters were delivered before it)"
        )
        if self.request_id:
            message += f" [request id {self.request_id}]"
        return SignatureVerificationError(
            message,
            reason=self.reason,
            detail=self.detail,
            request_id=self.request_id,
            signer=self.signer,
            text=text,
            texts=texts,
            usage=usage,
            partial_message=partial_message,
        )


class APIStatusError(AtomaError):
    """The server answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        """One sentence: the status and the server's own message."""
        self.status_code = status_code
        """The HTTP status code."""
        self.code = code
        """The machine-readable error code from the body (``AUTH_ERROR``, ...), if any."""
        self.request_id = request_id
        """The ``x-request-id`` response header, for support requests."""
        self.body = body
        """The decoded JSON body, or the raw text when it was not JSON."""
        self.response = response
        """The httpx response (its body already read); None in an unpickled copy."""


class BadRequestError(APIStatusError):
    """400 or 422: the server rejected the request as invalid."""


class ContextLengthExceededError(BadRequestError):
    """The prompt plus ``max_tokens`` does not fit in the model's context window."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or invalid."""


class InsufficientBalanceError(APIStatusError):
    """402, or Atoma's ``FIAT_PAYMENTS_ONLY``: the account cannot pay for the request."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this resource."""


class NotFoundError(APIStatusError):
    """404: no such route or resource (a wrong ``base_url`` looks like this)."""


class RateLimitError(APIStatusError):
    """429: too many requests, or Atoma could not reach a node; retried automatically."""


class InternalServerError(APIStatusError):
    """5xx: the server failed (Atoma reports backend validation errors this way too)."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientBalanceError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}
_BALANCE_CODES = frozenset({"FIAT_PAYMENTS_ONLY", "BALANCE_ERROR", "INSUFFICIENT_BALANCE"})


def _decode_body(content: bytes) -> Any:
    """The body as JSON when it parses, else as text."""
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def error_details(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from Atoma's, OpenAI's or FastAPI's error body shapes, or plain text."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            code = error.get("code") or error.get("type")
            message = error.get("message") or error.get("detail")
            return (
                str(code) if code is not None else None,
                str(message) if message else None,
            )
        if isinstance(error, str):
            return None, error
        detail = body.get("detail")
        if detail:
            return None, detail if isinstance(detail, str) else json.dumps(detail)
        return None, None
    if isinstance(body, str) and body.strip():
        return None, body.strip()
    return None, None


def validation_detail(exc: ValidationError) -> str:
    """Where and why a decoded body failed its model: ``choices.0.text: Input should be...``.

    The first error only: pydantic's own first line just counts the errors.
    """
    errors = exc.errors()
    if not errors:
        return str(exc)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def _is_context_overflow(code: str | None, message: str | None) -> bool:
    if code == "context_length_exceeded":
        return True
    text = (message or "").lower()
    return "context length" in text or "context window" in text


def _is_balance_error(code: str | None, message: str | None) -> bool:
    if code in _BALANCE_CODES:
        return True
    return "insufficient balance" in (message or "").lower()


def _shorten(message: str) -> str:
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE_CHARS:
        return message[: _MAX_MESSAGE_CHARS - 3] + "..."
    return message


def status_error_from_response(response: httpx.Response) -> APIStatusError:
    """Build the typed exception for an error response; its body must already be read."""
    status = response.status_code
    body = _decode_body(response.content)
    code, server_message = error_details(body)
    request_id = response.headers.get("x-request-id")

    cls: type[APIStatusError]
    if _is_balance_error(code, server_message):
        cls = InsufficientBalanceError
    elif status in (400, 413, 422) and _is_context_overflow(code, server_message):
        cls = ContextLengthExceededError
    elif status >= 500:
        cls = InternalServerError
    else:
        cls = _STATUS_CLASSES.get(status, APIStatusError)

    reason = response.reason_phrase or "error"
    what = f"HTTP {status} {reason}".rstrip()
    if code:
        what += f" ({code})"
    detail = _shorten(server_message) if server_message else "the server gave no message"
    message = f"{what} from {response.request.method} {response.request.url.path}: {detail}"
    if request_id:
        message += f" [request id {request_id}]"
    return cls(
        message,
        status_code=status,
        code=code,
        request_id=request_id,
        body=body,
        response=response,
    )

"""The core's typed errors as LangChain's provider-neutral ``Model*Error`` types.

langchain-core >= 1.6 has a ``Model*Error`` family; each core error is re-raised as a
subclass of both, so ``except RateLimitError`` and ``except ModelRateLimitError`` both work.
Older langchain-core has no such family; the core's errors are raised as they are.

A request the client's schema refuses (a message, tool or parameter of the wrong shape,
found before anything is sent) is an :class:`InvalidRequestError`, LangChain's
``ModelInvalidRequestError``, rather than the raw pydantic ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from atoma_integrations import errors
from atoma_integrations.types import ChatCompletionRequest, CompletionRequest, EmbeddingRequest

__all__ = ["InvalidRequestError", "as_langchain_error", "typed_errors"]

try:
    from langchain_core.exceptions import ModelInvalidRequestError as _InvalidRequest
except ImportError:  # pragma: no cover - langchain-core < 1.6 has no Model*Error family
    _InvalidRequest = ValueError  # type: ignore[assignment,misc]


class InvalidRequestError(_InvalidRequest, ValueError):
    """A request refused before it is sent: what is wrong, where. A
    ``ModelInvalidRequestError`` (langchain-core >= 1.6) and a ``ValueError``; when the
    client's schema refused it, the pydantic ``ValidationError`` is its ``__cause__``."""


# The schemas the client validates a request against: a ValidationError titled with one of
# them is the caller's request, not a failure elsewhere (a callback, the caller's own code).
_REQUEST_SCHEMAS = frozenset(
    model.__name__ for model in (ChatCompletionRequest, CompletionRequest, EmbeddingRequest)
)

_LANGCHAIN_ERRORS: dict[type[errors.AtomaError], type[errors.AtomaError]] = {}

try:
    from langchain_core.exceptions import (
        ContextOverflowError,
        ModelAPIError,
        ModelAuthenticationError,
        ModelConnectionError,
        ModelError,
        ModelInvalidRequestError,
        ModelNotFoundError,
        ModelPermissionDeniedError,
        ModelRateLimitError,
        ModelTimeoutError,
    )
except ImportError:  # pragma: no cover - langchain-core < 1.6
    pass
else:

    class APIStatusError(errors.APIStatusError, ModelError):
        """An HTTP error status with no more specific class; also a ``ModelError``."""

    class BadRequestError(errors.BadRequestError, ModelInvalidRequestError):
        """400 / 422; also a ``ModelInvalidRequestError``."""

    class ContextLengthExceededError(
        errors.ContextLengthExceededError, ContextOverflowError, ModelInvalidRequestError
    ):
        """The prompt does not fit the context; also a ``ContextOverflowError``."""

    class AuthenticationError(errors.AuthenticationError, ModelAuthenticationError):
        """401; also a ``ModelAuthenticationError``."""

    class InsufficientBalanceError(errors.InsufficientBalanceError, ModelError):
        """The account cannot pay; also a (not retryable) ``ModelError``."""

    class PermissionDeniedError(errors.PermissionDeniedError, ModelPermissionDeniedError):
        """403; also a ``ModelPermissionDeniedError``."""

    class NotFoundError(errors.NotFoundError, ModelNotFoundError):
        """404; also a ``ModelNotFoundError``."""

    class RateLimitError(errors.RateLimitError, ModelRateLimitError):
        """429; also a ``ModelRateLimitError``."""

    class InternalServerError(errors.InternalServerError, ModelAPIError):
        """5xx; also a ``ModelAPIError``."""

    class APIConnectionError(errors.APIConnectionError, ModelConnectionError):
        """No HTTP answer; also a ``ModelConnectionError``."""

    class APITimeoutError(errors.APITimeoutError, ModelTimeoutError):
        """A timeout fired; also a ``ModelTimeoutError``."""

    class StreamInterruptedError(errors.StreamInterruptedError, ModelAPIError):
        """A stream cut short (keeps ``.text`` / ``.usage``); also a ``ModelAPIError``."""

    _LANGCHAIN_ERRORS.update(
        {
            errors.APIStatusError: APIStatusError,
            errors.BadRequestError: BadRequestError,
            errors.ContextLengthExceededError: ContextLengthExceededError,
            errors.AuthenticationError: AuthenticationError,
            errors.InsufficientBalanceError: InsufficientBalanceError,
            errors.PermissionDeniedError: PermissionDeniedError,
            errors.NotFoundError: NotFoundError,
            errors.RateLimitError: RateLimitError,
            errors.InternalServerError: InternalServerError,
            errors.APIConnectionError: APIConnectionError,
            errors.APITimeoutError: APITimeoutError,
            errors.StreamInterruptedError: StreamInterruptedError,
        }
    )

_CONVERTED = frozenset(_LANGCHAIN_ERRORS.values())


def as_langchain_error(exc: errors.AtomaError) -> errors.AtomaError:
    """The same error (message, attributes, traceback) as its LangChain-typed subclass."""
    cls = type(exc)
    if cls in _CONVERTED:
        return exc
    target = next((_LANGCHAIN_ERRORS[k] for k in cls.__mro__ if k in _LANGCHAIN_ERRORS), None)
    if target is None:
        return exc
    converted = target.__new__(target)
    converted.args = exc.args
    converted.__dict__.update(exc.__dict__)
    return converted.with_traceback(exc.__traceback__)


def _refused_request(exc: ValidationError) -> InvalidRequestError:
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'request'}: {error['msg']}"
        for error in exc.errors()
    ]
    return InvalidRequestError(
        f"the request was refused before sending ({exc.title}): " + "; ".join(problems)
    )


@contextmanager
def typed_errors() -> Iterator[None]:
    """The core's errors as LangChain's, and a request the client's schema refuses as an
    :class:`InvalidRequestError`."""
    try:
        yield
    except ValidationError as exc:
        if exc.title not in _REQUEST_SCHEMAS:
            raise
        raise _refused_request(exc) from exc
    except errors.AtomaError as exc:
        converted = as_langchain_error(exc)
        if converted is exc:
            raise
        # Keep the original cause (an httpx error, say) and hide the conversion itself.
        raise converted from exc.__cause__

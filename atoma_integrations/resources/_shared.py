"""What every resource does the same way: encode a validated body, decode (and, when
asked, verify) a response."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel, RootModel, ValidationError

from atoma_integrations._config import resolve_timeout
from atoma_integrations.errors import MalformedResponseError, validation_detail
from atoma_integrations.types.shared import Signed, mark_signed

if TYPE_CHECKING:
    from atoma_integrations._signatures import SignatureVerifier

__all__ = ["build_body", "parse_json", "parse_response"]

_ModelT = TypeVar("_ModelT", bound=BaseModel)


def build_body(
    request_type: type[BaseModel],
    params: Mapping[str, Any],
    *,
    stream: bool,
    resource: str,
    streams: bool = True,
) -> tuple[bytes, httpx.Timeout | None]:
    """Validate ``params`` as ``request_type`` and encode the JSON body, before any request.

    ``params`` are a resource method's keyword arguments: None means "not sent",
    ``extra_body`` is merged into the body and ``timeout`` is this call's timeout.
    ``resource`` (``"completions"``, ``"chat.completions"``) names the caller in errors.
    """
    fields: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
    extra_body = fields.pop("extra_body", None)
    if "stream" in fields or (isinstance(extra_body, dict) and "stream" in extra_body):
        # Sent by create(), it would ask for SSE and then fail to parse the answer.
        hint = (
            f"call {resource}.create_stream(...) to stream, {resource}.create(...) for a "
            "whole response"
            if streams
            else f"{resource} does not stream"
        )
        raise TypeError(f"stream is not a parameter: {hint}")
    timeout = resolve_timeout(fields.pop("timeout", None))
    if stream:
        fields["stream"] = True
    request = request_type(**fields)
    if not extra_body:
        return request.model_dump_json(exclude_none=True, by_alias=True).encode(), timeout
    if not isinstance(extra_body, dict):
        raise TypeError(f"extra_body must be a dict, got {type(extra_body).__name__}")
    body = request.model_dump(mode="json", exclude_none=True, by_alias=True)
    body.update(extra_body)
    return json.dumps(body).encode(), timeout


def parse_response(
    model: type[_ModelT], response: httpx.Response, verifier: SignatureVerifier | None = None
) -> _ModelT:
    """Decode a successful response's body into ``model``, straight from its bytes.

    With :func:`parse_json`, the one place a whole (not streamed) body is decoded. With a
    ``verifier`` (``model`` must then be a signed type), the raw body's signature is
    checked first, so a body that fails is never returned; the result carries its
    ``signer``.
    """
    content = response.content
    signer = None
    if verifier is not None:
        signer = verifier.verify(content, response.headers.get("x-request-id"))
    try:
        result = model.model_validate_json(content)
    except ValidationError as exc:
        what = "JSON" if model is _JSONDocument else f"a valid {model.__name__}"
        raise MalformedResponseError(
            f"The server's {response.status_code} response to {response.request.url.path} "
            f"is not {what} ({validation_detail(exc)}) (body starts {content[:200]!r})"
        ) from exc
    if signer is not None:
        assert isinstance(result, Signed), f"{model.__name__} is not a signed type"
        mark_signed(result, signer)
    return result


class _JSONDocument(RootModel[Any]):
    """Any JSON document: for the routes whose answer is read leniently, by hand."""


def parse_json(response: httpx.Response) -> Any:
    """A successful response's body as plain JSON."""
    return parse_response(_JSONDocument, response).root

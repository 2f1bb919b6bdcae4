"""``client.embeddings``: one vector per input text (``POST /embeddings``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

import httpx
from typing_extensions import Required, Unpack

from atoma_integrations._config import TimeoutTypes
from atoma_integrations.errors import MalformedResponseError
from atoma_integrations.resources._base import AsyncAPIResource, SyncAPIResource
from atoma_integrations.resources._shared import build_body, parse_response
from atoma_integrations.types import CreateEmbeddingResponse, EmbeddingRequest

if TYPE_CHECKING:
    from atoma_integrations._signatures import SignatureVerifier

__all__ = [
    "AsyncEmbeddings",
    "EmbeddingParams",
    "Embeddings",
    "build_embedding_body",
    "checked_embeddings",
]


PATH = "/embeddings"


class EmbeddingParams(TypedDict, total=False):
    """Keyword arguments of ``embeddings.create``.

    Names and meanings are those of Atoma's (OpenAI's) ``/v1/embeddings`` fields; see
    :class:`~atoma_integrations.types.EmbeddingRequest`. None means "not sent".
    """

    model: Required[str]
    input: Required[str | list[str]]
    dimensions: int | None
    encoding_format: str | None
    user: str | None
    extra_body: dict[str, Any] | None
    """Extra JSON fields merged into the body (backend extras)."""
    timeout: TimeoutTypes | None
    """Timeout for this call only, in seconds or as an httpx.Timeout."""


def build_embedding_body(params: EmbeddingParams) -> tuple[bytes, httpx.Timeout | None, int]:
    """Validate ``params`` and encode the body, before any request; also how many vectors
    the answer must hold (one per input)."""
    body, timeout = build_body(
        EmbeddingRequest, params, stream=False, resource="embeddings", streams=False
    )
    inputs = params["input"]
    expected = 1 if isinstance(inputs, str) else len(inputs)
    return body, timeout, expected


def checked_embeddings(
    response: httpx.Response, expected: int, verifier: SignatureVerifier | None = None
) -> CreateEmbeddingResponse:
    """Decode the answer and make sure it holds exactly one vector per input.

    A missing, duplicated or out-of-range ``index`` would otherwise pair a text with
    another text's vector, or drop one, without anyone noticing.
    """
    result = parse_response(CreateEmbeddingResponse, response, verifier)
    indexes = [item.index for item in result.data]
    if indexes != list(range(expected)):
        raise MalformedResponseError(
            f"The server's answer to {response.request.url.path} holds {len(indexes)} "
            f"vector(s) with indexes {_summary(indexes)} for {expected} input(s): "
            f"expected one per input, indexes 0 to {expected - 1}"
        )
    return result


def _summary(indexes: list[int]) -> str:
    shown = ", ".join(map(str, indexes[:8]))
    return f"[{shown}{', ...' if len(indexes) > 8 else ''}]"


class Embeddings(SyncAPIResource):
    """``client.embeddings``: vectors for texts."""

    def create(self, **params: Unpack[EmbeddingParams]) -> CreateEmbeddingResponse:
        """Embed ``input`` (a text or a list of texts); ``data`` is in input order."""
        body, timeout, expected = build_embedding_body(params)
        return checked_embeddings(self._post(PATH, body, timeout), expected, self._verifier)


class AsyncEmbeddings(AsyncAPIResource):
    """``client.embeddings`` of the async client."""

    async def create(self, **params: Unpack[EmbeddingParams]) -> CreateEmbeddingResponse:
        """Embed ``input`` (a text or a list of texts); ``data`` is in input order."""
        body, timeout, expected = build_embedding_body(params)
        return checked_embeddings(await self._post(PATH, body, timeout), expected, self._verifier)

"""``client.models``: what the server serves (``GET /models``, Atoma's context windows)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atoma_integrations.resources._shared import parse_json, parse_response
from atoma_integrations.types import Model, ModelList

if TYPE_CHECKING:
    from atoma_integrations._client import AsyncAtomaClient, AtomaClient

__all__ = ["AsyncModels", "Models"]


def _context_lengths(body: Any) -> dict[str, int]:
    entries = body.get("data", []) if isinstance(body, dict) else body
    lengths: dict[str, int] = {}
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("context_length"), int):
                lengths[str(entry.get("id"))] = entry["context_length"]
    return lengths


class Models:
    """``client.models``: what the server serves."""

    def __init__(self, client: AtomaClient) -> None:
        self._client = client

    def list(self) -> list[Model]:
        """``GET {base_url}/models``: the model ids this server accepts."""
        client = self._client
        response = client._send("GET", f"{client.base_url}/models")
        return parse_response(ModelList, response).data

    def context_lengths(self) -> dict[str, int]:
        """Context window per model id, from Atoma's ``GET {base_url}/open_router/models``."""
        client = self._client
        response = client._send("GET", f"{client.base_url}/open_router/models")
        return _context_lengths(parse_json(response))


class AsyncModels:
    """``client.models`` of the async client."""

    def __init__(self, client: AsyncAtomaClient) -> None:
        self._client = client

    async def list(self) -> list[Model]:
        """``GET {base_url}/models``: the model ids this server accepts."""
        client = self._client
        response = await client._send("GET", f"{client.base_url}/models")
        return parse_response(ModelList, response).data

    async def context_lengths(self) -> dict[str, int]:
        """Context window per model id, from Atoma's ``GET {base_url}/open_router/models``."""
        client = self._client
        response = await client._send("GET", f"{client.base_url}/open_router/models")
        return _context_lengths(parse_json(response))

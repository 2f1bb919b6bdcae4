"""``client.models``: what the server serves (``GET /models``, Atoma's context windows)."""

from __future__ import annotations

from typing import Any

from atoma_integrations.resources._base import AsyncAPIResource, SyncAPIResource
from atoma_integrations.resources._shared import parse_json, parse_response
from atoma_integrations.types import Model, ModelList

__all__ = ["AsyncModels", "Models"]

PATH = "/models"
CONTEXT_LENGTHS_PATH = "/open_router/models"


def _context_lengths(body: Any) -> dict[str, int]:
    entries = body.get("data", []) if isinstance(body, dict) else body
    lengths: dict[str, int] = {}
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("context_length"), int):
                lengths[str(entry.get("id"))] = entry["context_length"]
    return lengths


class Models(SyncAPIResource):
    """``client.models``: what the server serves."""

    def list(self) -> list[Model]:
        """``GET {base_url}/models``: the model ids this server accepts."""
        return parse_response(ModelList, self._get(PATH)).data

    def context_lengths(self) -> dict[str, int]:
        """Context window per model id, from Atoma's ``GET {base_url}/open_router/models``."""
        return _context_lengths(parse_json(self._get(CONTEXT_LENGTHS_PATH)))


class AsyncModels(AsyncAPIResource):
    """``client.models`` of the async client."""

    async def list(self) -> list[Model]:
        """``GET {base_url}/models``: the model ids this server accepts."""
        return parse_response(ModelList, await self._get(PATH)).data

    async def context_lengths(self) -> dict[str, int]:
        """Context window per model id, from Atoma's ``GET {base_url}/open_router/models``."""
        return _context_lengths(parse_json(await self._get(CONTEXT_LENGTHS_PATH)))

"""What every LlamaIndex adapter shares: connection fields, their check, client settings.

``Atoma``, ``AtomaChat`` and ``AtomaEmbedding`` take the same ``api_key`` / ``base_url`` /
``timeout`` / ``max_retries`` / ``default_headers`` / ``transport``, keep the key and headers
out of ``to_dict`` / ``to_json`` and ``repr``, and reach the process-shared clients of
``_adapters`` through the same :class:`ClientSettings`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from atoma_integrations._adapters import ClientSettings
from atoma_integrations._config import resolve_config
from atoma_integrations._transport import AsyncTransportName

__all__ = ["ConnectionFields"]


class ConnectionFields(BaseModel):
    """Where and how an adapter reaches the server."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    api_key: SecretStr | None = Field(default=None, exclude=True)
    """API key; None reads ATOMA_API_KEY, then ATOMASDK_BEARER_AUTH, for Atoma's URLs only."""
    base_url: str | None = None
    """Server base URL including ``/v1``; None reads ATOMA_BASE_URL, else the Atoma cloud."""
    timeout: float | None = None
    """Seconds to wait for each read (in a stream, between events); None keeps the default."""
    max_retries: int = 2
    """Retries after the first attempt on connection errors, 408, 429 and 5xx, in total."""
    default_headers: dict[str, str] | None = Field(default=None, exclude=True, repr=False)
    """Extra HTTP headers on every request (kept out of to_dict and repr: they may be secret)."""
    transport: AsyncTransportName | None = None
    """The async calls' connection pool: None or "aiohttp" (the default, fast under
    concurrency), or "httpx" for httpx's own. Sync calls always use httpx's pool."""

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # The client's own settings check, now rather than at the first call: a bad URL or
        # a missing key for the Atoma cloud raises ConfigurationError naming the fix (in
        # __init__, not a validator, so pydantic does not wrap it in a ValidationError).
        self._client_settings()

    def _client_settings(self) -> ClientSettings:
        # Resolved on each call (a few microseconds): the environment key is never stored
        # on the object, so it cannot leak through pickling or serialization, and the
        # key-safety rule of the core decides where it may go.
        config = resolve_config(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
        )
        return ClientSettings(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=tuple(sorted(config.default_headers.items())),
            transport=self.transport,
        )

"""What every LangChain adapter shares: connection fields, their checks, secrets, version.

``AtomaLLM`` and ``ChatAtoma`` (through ``_base.AtomaLangChainSettings``) and
``AtomaEmbeddings`` take the same ``api_key`` / ``base_url`` / ``timeout`` / ``max_retries`` /
``max_concurrency`` / ``default_headers`` / ``transport``, check them by the client's own
rules when built, serialize the key as a reference to ``ATOMA_API_KEY`` and reach the
process-shared clients of ``_adapters`` through the same :class:`ClientSettings`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from typing_extensions import Self

from atoma_integrations._adapters import DEFAULT_MAX_CONCURRENCY, ClientSettings
from atoma_integrations._config import resolve_config
from atoma_integrations._transport import AsyncTransportName
from atoma_integrations._version import __version__

__all__ = ["ConnectionFields"]


class ConnectionFields(BaseModel):
    """Where and how an adapter reaches the server; listed first in an adapter's bases so
    its ``lc_secrets`` and ``is_lc_serializable`` win over LangChain's defaults."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    api_key: SecretStr | None = None
    """API key; None takes ``ATOMA_API_KEY`` / ``ATOMASDK_BEARER_AUTH`` (Atoma cloud only)."""
    base_url: str | None = None
    """Server URL including ``/v1``; None means ``ATOMA_BASE_URL``, else the Atoma cloud."""
    timeout: float | None = None
    """Seconds per request (and between two stream events); None means 120 s, connect 10 s."""
    max_retries: int = 2
    """Retries of a failed request (connection errors, 408, 429, 5xx), in total."""
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)
    """Most requests in flight at once when one call makes several (batch, many texts)."""
    default_headers: dict[str, str] | None = None
    """Extra HTTP headers sent with every request."""
    transport: AsyncTransportName | None = None
    """The async calls' connection pool: None or "aiohttp" (the default, fast under
    concurrency), or "httpx" for httpx's own. Sync calls always use httpx's pool."""

    @model_validator(mode="after")
    def _check_connection(self) -> Self:
        """Key, URL, timeout and retries by the client's own rules (no client is built):
        fail now, naming the field, rather than at the first request."""
        resolve_config(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
        )
        return self

    @model_validator(mode="after")
    def _add_atoma_version(self) -> Self:
        """Record the package version in ``metadata["lc_versions"]`` for tracing."""
        add_version = getattr(self, "_add_version", None)  # langchain-core >= 1.3
        if add_version is not None:
            add_version("atoma-integrations", __version__)
        return self

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """True: ``dumpd``/``dumps`` write the settings, with the key as a secret reference."""
        return True

    @property
    def lc_secrets(self) -> dict[str, str]:
        """The key is serialized as a reference to ``ATOMA_API_KEY``, never as its value."""
        return {"api_key": "ATOMA_API_KEY"}

    def _settings(self) -> ClientSettings:
        return ClientSettings(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=tuple(sorted((self.default_headers or {}).items())),
            transport=self.transport,
        )

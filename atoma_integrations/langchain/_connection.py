"""The LangChain side of the connection settings: secrets, serialization, version.

``AtomaLLM`` and ``ChatAtoma`` (through ``_base.AtomaLangChainSettings``) and
``AtomaEmbeddings`` take the core's connection fields (``_settings.ConnectionSettings``,
shared with the LlamaIndex adapters, so equal settings share one client whichever framework
asks) plus ``max_concurrency``; this module adds only what LangChain needs: the check when
the object is built, the key serialized as a reference to ``ATOMA_API_KEY``, and the
package version in ``metadata``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, Field, model_validator
from typing_extensions import Self

from atoma_integrations._adapters import DEFAULT_MAX_CONCURRENCY
from atoma_integrations._settings import ClientSettings, ConnectionSettings
from atoma_integrations._version import __version__

__all__ = ["LangChainConnection"]


class LangChainConnection(ConnectionSettings):
    """The connection fields of a LangChain adapter; listed first in an adapter's bases so
    its ``lc_secrets`` and ``is_lc_serializable`` win over LangChain's defaults."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    _extras_field: ClassVar[str | None] = "model_kwargs"

    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)
    """Most requests in flight at once when one call makes several (batch, many texts)."""

    @model_validator(mode="after")
    def _check_connection(self) -> Self:
        """Key, URL, timeout and retries by the client's own rules (no client is built):
        fail now, naming the field, rather than at the first request."""
        self._client_settings()
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

    @property
    def lc_attributes(self) -> dict[str, Any]:
        """``default_headers`` stay in ``dumps``, as they always were for LangChain; the core
        keeps them out of ``model_dump``, which is LlamaIndex's serialization."""
        return {"default_headers": self.default_headers} if self.default_headers else {}

    def _settings(self) -> ClientSettings:
        """The resolved settings (the name the LangChain adapters call it by)."""
        return self._client_settings()

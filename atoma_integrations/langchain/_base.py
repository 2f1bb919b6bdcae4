"""What ``AtomaLLM`` and ``ChatAtoma`` share: connection settings, identity, serialization.

A mixin placed first among each class's bases, so its ``is_lc_serializable`` and
``lc_secrets`` win over LangChain's defaults. Generation parameters are not here: they
differ per endpoint (``GenerationFields`` / ``ChatGenerationFields`` in ``_adapters``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from typing_extensions import Self

from atoma_integrations._adapters import DEFAULT_MAX_CONCURRENCY, ClientSettings
from atoma_integrations._config import resolve_config
from atoma_integrations._version import __version__

__all__ = ["AtomaLangChainSettings"]


class AtomaLangChainSettings(BaseModel):
    """Connection settings, body extras and LangChain identity of an Atoma model."""

    model_config = ConfigDict(use_attribute_docstrings=True, protected_namespaces=())

    # Body fields the class sends itself; model_kwargs may not set them.
    _reserved_body_keys: ClassVar[frozenset[str]] = frozenset()

    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra JSON body fields for backend extras (``top_k``, ``repetition_penalty``, ...)."""
    streaming: bool = False
    """Make ``invoke``/``generate`` stream, so callback handlers receive every token."""
    api_key: SecretStr | None = None
    """API key; None takes ``ATOMA_API_KEY`` / ``ATOMASDK_BEARER_AUTH`` (Atoma cloud only)."""
    base_url: str | None = None
    """Server URL including ``/v1``; None means ``ATOMA_BASE_URL``, else the Atoma cloud."""
    timeout: float | None = None
    """Seconds per request (and between two stream events); None means 120 s, connect 10 s."""
    max_retries: int = 2
    """Retries of a failed request (connection errors, 408, 429, 5xx), in total."""
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)
    """Most requests in flight at once when one call carries several inputs (batch)."""
    default_headers: dict[str, str] | None = None
    """Extra HTTP headers sent with every request."""

    @model_validator(mode="after")
    def _check_connection(self) -> Self:
        """Fail now, naming the field, rather than at the first request."""
        if self.streaming and (getattr(self, "n", None) or 1) > 1:
            raise ValueError("streaming=True gives one answer per input: it needs n=1")
        reserved = sorted(self._reserved_body_keys.intersection(self.model_kwargs))
        if reserved:
            raise ValueError(
                f"model_kwargs must not set {', '.join(reserved)}: "
                f"use the {type(self).__name__} field(s) or call arguments"
            )
        # Key, URL, timeout and retries by the client's own rules (no client is built here).
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
        """The client settings; equal settings share one pooled client per process."""
        return ClientSettings(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=tuple(sorted((self.default_headers or {}).items())),
        )

    def _identity(self, model: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """Every setting that changes the output (the cache key); never the key."""
        params: dict[str, Any] = {"model": model}
        params.update((k, v) for k, v in defaults.items() if v is not None)
        if self.model_kwargs:
            params["model_kwargs"] = dict(self.model_kwargs)
        if self.base_url is not None:
            params["base_url"] = self.base_url
        return params

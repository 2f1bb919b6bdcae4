"""What ``AtomaLLM`` and ``ChatAtoma`` share: body extras, streaming, identity.

A mixin placed first among each class's bases. Its base, ``_connection.ConnectionFields``
(shared with ``AtomaEmbeddings``), brings the connection settings and their check, and the
``is_lc_serializable`` / ``lc_secrets`` that win over LangChain's defaults. Generation
parameters are not here: they differ per endpoint (``GenerationFields`` /
``ChatGenerationFields`` in ``_adapters``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, model_validator
from typing_extensions import Self

from atoma_integrations.langchain._connection import ConnectionFields

__all__ = ["AtomaLangChainSettings"]


class AtomaLangChainSettings(ConnectionFields):
    """Body extras and LangChain identity of an Atoma model, on the shared connection fields."""

    model_config = ConfigDict(use_attribute_docstrings=True, protected_namespaces=())

    # Body fields the class sends itself; model_kwargs may not set them.
    _reserved_body_keys: ClassVar[frozenset[str]] = frozenset()

    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra JSON body fields for backend extras (``top_k``, ``repetition_penalty``, ...)."""
    streaming: bool = False
    """Make ``invoke``/``generate`` stream, so callback handlers receive every token."""

    @model_validator(mode="after")
    def _check_body_extras(self) -> Self:
        """Fail now, naming the field, rather than at the first request (the connection
        settings are checked by ``ConnectionFields``)."""
        if self.streaming and (getattr(self, "n", None) or 1) > 1:
            raise ValueError("streaming=True gives one answer per input: it needs n=1")
        reserved = sorted(self._reserved_body_keys.intersection(self.model_kwargs))
        if reserved:
            raise ValueError(
                f"model_kwargs must not set {', '.join(reserved)}: "
                f"use the {type(self).__name__} field(s) or call arguments"
            )
        return self

    def _identity(self, model: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """Every setting that changes the output (the cache key); never the key."""
        params: dict[str, Any] = {"model": model}
        params.update((k, v) for k, v in defaults.items() if v is not None)
        if self.model_kwargs:
            params["model_kwargs"] = dict(self.model_kwargs)
        if self.base_url is not None:
            params["base_url"] = self.base_url
        return params

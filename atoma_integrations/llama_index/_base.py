"""What the LlamaIndex LLMs (``Atoma``, ``AtomaChat``) share: connection fields and metadata.

Both hold settings, never a connection: the key stays a ``SecretStr`` (or is read from the
environment on each call and never stored), clients come from the process-shared caches of
``_adapters`` (the async one per event loop), and the context window comes from Atoma's
model list once per base URL. Each LLM adds its generation fields and its calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from atoma_integrations._adapters import ClientSettings
from atoma_integrations._config import resolve_config
from atoma_integrations.llama_index._context import (
    context_window_for,
    known_context_window,
    without_userinfo,
)

__all__ = ["AtomaLLMBase", "check_streamable"]


class AtomaLLMBase(BaseModel):
    """Connection fields, extra body fields and metadata of the LlamaIndex LLMs.

    List it before the LlamaIndex base class (``class Atoma(AtomaLLMBase, CustomLLM)``), so
    that its ``__init__`` runs and checks the settings when the object is built.
    """

    model_config = ConfigDict(use_attribute_docstrings=True, protected_namespaces=())

    # Body fields the LLM sets itself; ``additional_kwargs`` may not name them, or a copy
    # there would silently override a validated field.
    _reserved_body_keys: ClassVar[frozenset[str]] = frozenset()

    context_window: int | None = Field(default=None, gt=0)
    """Tokens the model takes in and puts out per call; None asks the server once."""
    additional_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra JSON body fields for every call (backend extras such as ``top_k``)."""
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

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # The client's own settings check, now rather than at the first call: a bad URL or
        # a missing key for the Atoma cloud raises ConfigurationError naming the fix.
        self._client_settings()

    @field_validator("additional_kwargs")
    @classmethod
    def _no_reserved_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Generation parameters go in their fields, where they are validated."""
        clash = sorted(cls._reserved_body_keys & value.keys())
        if clash:
            raise ValueError(
                f"{', '.join(clash)} cannot be set through additional_kwargs: "
                f"pass generation parameters as {cls.__name__}(...) fields or per call"
            )
        return value

    # -- connection -------------------------------------------------------------------

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
        )

    # -- metadata ---------------------------------------------------------------------

    def _model_name(self) -> str:
        return str(getattr(self, "model", ""))

    def _context_window(self) -> int:
        if self.context_window is not None:
            return self.context_window
        return context_window_for(self._client_settings(), self._model_name(), type(self).__name__)

    def _payload(
        self, class_name: str, num_output: int, *, is_chat_model: bool, is_function_calling: bool
    ) -> dict[str, Any]:
        """Model details for events and traces: no key, no headers, and no request.

        LlamaIndex calls ``to_payload`` at the start of every call; the default would read
        ``metadata`` and so could send the context-window request from inside an async
        method with the sync client. Here a window not yet known is reported as None.
        """
        settings = self._client_settings()
        window = self.context_window
        if window is None:
            window = known_context_window(settings, self._model_name())
        return {
            "class_name": class_name,
            "model_name": self._model_name(),
            "context_window": window,
            "num_output": num_output,
            "is_chat_model": is_chat_model,
            "is_function_calling_model": is_function_calling,
            "base_url": without_userinfo(settings.base_url or ""),
        }


def check_streamable(params: Mapping[str, Any], whole_call: str) -> None:
    """Refuse ``n`` (or ``best_of``) > 1 on a stream, which carries one answer, before sending."""
    for name in ("n", "best_of"):
        value = params.get(name)
        if isinstance(value, int) and value > 1:
            raise ValueError(
                f"{name}={value} cannot be streamed: a stream carries one answer; "
                f"use {whole_call} for {name} > 1"
            )

"""What the LlamaIndex LLMs (``Atoma``, ``AtomaChat``) share: body extras and metadata.

Both hold settings, never a connection: the key stays a ``SecretStr`` (or is read from the
environment on each call and never stored), clients come from the process-shared registry
(``_settings``, the async one per event loop), and the context window comes from Atoma's
model list once per base URL. Each LLM adds its generation fields and its calls.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, Field, field_validator

from atoma_integrations._rules import check_extra_body
from atoma_integrations.llama_index._connection import LlamaIndexConnection
from atoma_integrations.llama_index._context import (
    context_window_for,
    known_context_window,
    without_userinfo,
)

__all__ = ["AtomaLLMBase"]


class AtomaLLMBase(LlamaIndexConnection):
    """Extra body fields and metadata of the LlamaIndex LLMs, on the connection fields that
    every LlamaIndex adapter shares (``_connection.LlamaIndexConnection``).

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

    @field_validator("additional_kwargs")
    @classmethod
    def _no_reserved_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Generation parameters go in their fields, where they are validated."""
        check_extra_body(value, cls._reserved_body_keys, "additional_kwargs", cls.__name__)
        return value

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
            "base_url": without_userinfo(settings.base_url),
        }

"""The LlamaIndex side of the connection settings: the check when an object is built.

``Atoma``, ``AtomaChat`` and ``AtomaEmbedding`` take the core's connection fields
(``_settings.ConnectionSettings``, shared with the LangChain adapters, so equal settings share
one client whichever framework asks). The core keeps the key and headers out of ``to_dict`` /
``to_json`` (LlamaIndex serializes with ``model_dump``) and ``repr``, and never stores a key
from the environment, so a pickle carries only a key passed explicitly.
"""

from __future__ import annotations

from typing import Any, ClassVar

from atoma_integrations._settings import ConnectionSettings

__all__ = ["LlamaIndexConnection"]


class LlamaIndexConnection(ConnectionSettings):
    """The connection fields of a LlamaIndex adapter, checked when the object is built."""

    _extras_field: ClassVar[str | None] = "additional_kwargs"

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # The client's own settings check, now rather than at the first call: a bad URL or
        # a missing key for the Atoma cloud raises ConfigurationError naming the fix (in
        # __init__, not a validator, so pydantic does not wrap it in a ValidationError).
        self._client_settings()

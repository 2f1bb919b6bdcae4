"""LlamaIndex: ``AtomaEmbedding``, a ``BaseEmbedding`` that maps LlamaIndex calls onto the client.

It reads like a table from LlamaIndex concepts to client calls:

==================================  =======================================================
LlamaIndex                          atoma_integrations
==================================  =======================================================
``get_query_embedding`` / ``a...``  ``embeddings.create`` with one text
``get_text_embedding`` / ``a...``   the same
``get_text_embedding_batch``        LlamaIndex cuts ``embed_batch_size`` texts per batch
                                    (one EMBEDDING event each); one ``embeddings.create``
                                    per batch (``aget_...`` runs the batches concurrently)
``Settings.embed_model``            any index or ingestion pipeline then embeds on Atoma
``to_json`` / pickle / events       no key, no headers
==================================  =======================================================

BaseEmbedding fires the EMBEDDING callback events and instrumentation events around these
methods; HTTP, retries and errors live in the core. No async method touches the sync client.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import ConfigDict, Field, field_validator

from atoma_integrations._adapters import (
    EmbeddingFields,
    async_client_for,
    check_extra_body,
    checked_query,
    checked_texts,
    sync_client_for,
)
from atoma_integrations.llama_index._connection import LlamaIndexConnection
from atoma_integrations.llama_index._context import without_userinfo
from atoma_integrations.resources import EmbeddingParams

__all__ = ["DEFAULT_EMBED_BATCH_SIZE", "AtomaEmbedding"]

# Texts per request. LlamaIndex's own default (10) costs a round trip per 10 chunks when an
# index is built; 100 is what LlamaIndex's OpenAIEmbedding uses.
DEFAULT_EMBED_BATCH_SIZE = 100


class AtomaEmbedding(LlamaIndexConnection, BaseEmbedding, EmbeddingFields):
    """Atoma's embeddings (or any OpenAI-compatible ``/v1/embeddings``) in LlamaIndex.

    Example::

        from llama_index.core import Settings, VectorStoreIndex, Document
        from atoma_integrations.llama_index import AtomaEmbedding

        Settings.embed_model = AtomaEmbedding(
            model_name="intfloat/multilingual-e5-large-instruct"
        )
        index = VectorStoreIndex.from_documents([Document(text="Atoma runs open models.")])
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    model_name: str = Field(min_length=1)
    """Embedding model id, exactly as ``GET /models`` lists it."""
    embed_batch_size: int = Field(default=DEFAULT_EMBED_BATCH_SIZE, gt=0, le=2048)
    """Texts per request (LlamaIndex cuts batches of this size; one request each)."""
    additional_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra JSON body fields for every call (backend extras)."""

    @field_validator("additional_kwargs")
    @classmethod
    def _no_reserved_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Validated parameters go in their fields, not around them."""
        check_extra_body(value, "additional_kwargs", "AtomaEmbedding")
        return value

    @classmethod
    def class_name(cls) -> str:
        """The name LlamaIndex uses for this class in serialization and events."""
        return "AtomaEmbedding"

    def to_payload(self) -> dict[str, Any]:
        """Model details for events and traces: never the key or the headers.

        Written out rather than extending ``BaseEmbedding.to_payload``: our floor,
        llama-index-core 0.14.16, does not have it. The fields are the ones it reports.
        """
        return {
            "class_name": self.class_name(),
            "model_name": self.model_name,
            "embed_batch_size": self.embed_batch_size,
            "base_url": without_userinfo(self._client_settings().base_url or ""),
        }

    def _params(self, texts: str | list[str]) -> EmbeddingParams:
        return self.embedding_params(self.model_name, texts, self.additional_kwargs)

    # -- sync -----------------------------------------------------------------------------

    def _embed(self, texts: str | list[str]) -> list[list[float]]:
        client = sync_client_for(self._client_settings())
        return client.embeddings.create(**self._params(texts)).embeddings

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed(checked_query(query, "query"))[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed(checked_query(text))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        listed = checked_texts(texts)
        return self._embed(listed) if listed else []

    # -- async ----------------------------------------------------------------------------

    async def _aembed(self, texts: str | list[str]) -> list[list[float]]:
        client = async_client_for(self._client_settings())
        return (await client.embeddings.create(**self._params(texts))).embeddings

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return (await self._aembed(checked_query(query, "query")))[0]

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return (await self._aembed(checked_query(text)))[0]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        listed = checked_texts(texts)
        return await self._aembed(listed) if listed else []

"""LangChain: ``AtomaEmbeddings``, Atoma's embeddings as an ``Embeddings`` for any vector store.

The class is a table from LangChain concepts to calls on the shared client; HTTP,
retries and error mapping live once, in the core:

==================================  ==================================================
LangChain                           here
==================================  ==================================================
``embed_documents``                 batches of ``chunk_size`` texts, one
                                    ``embeddings.create`` each, up to
                                    ``max_concurrency`` in flight; vectors in input order
``aembed_documents``                the same on ``AsyncAtomaClient`` (no threads)
``embed_query`` / ``aembed_query``  one ``embeddings.create`` with a single text
an empty list                       ``[]``, without a request
errors                              the core's typed errors, which are also LangChain's
                                    ``Model*Error`` types when langchain-core has them
``dumpd`` / ``load`` / pickle       the key travels as a secret reference
                                    (``ATOMA_API_KEY``)
==================================  ==================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.load.serializable import Serializable
from pydantic import ConfigDict, Field, field_validator

from atoma_integrations._adapters import (
    ClientSettings,
    EmbeddingFields,
    async_client_for,
    batched,
    check_extra_body,
    checked_query,
    checked_texts,
    sync_client_for,
)
from atoma_integrations._concurrency import gather_bounded, run_bounded
from atoma_integrations.langchain._connection import LangChainConnection
from atoma_integrations.langchain._errors import typed_errors
from atoma_integrations.resources import EmbeddingParams

__all__ = ["DEFAULT_CHUNK_SIZE", "AtomaEmbeddings"]

# Texts per request. Large enough that 10,000 short texts take a few dozen requests, small
# enough that one request stays well under a server's body and batch limits (OpenAI takes
# at most 2,048 inputs) and that several batches can be in flight at once.
DEFAULT_CHUNK_SIZE = 256


class AtomaEmbeddings(LangChainConnection, Serializable, Embeddings, EmbeddingFields):
    """Atoma's embedding models (or any OpenAI-compatible ``/v1/embeddings``) in LangChain.

    Example:
        ```python
        from langchain_core.vectorstores import InMemoryVectorStore
        from atoma_integrations.langchain import AtomaEmbeddings

        embeddings = AtomaEmbeddings(model="intfloat/multilingual-e5-large-instruct")
        store = InMemoryVectorStore.from_texts(["Atoma runs open models."], embeddings)
        store.similarity_search("Who runs open models?", k=1)
        ```

    The key comes from ``api_key``, else from ``ATOMA_API_KEY`` / ``ATOMASDK_BEARER_AUTH``
    when the server is the Atoma cloud or ``ATOMA_BASE_URL``; an environment key is never
    sent to another ``base_url``.
    """

    # pydantic < 2.10 reserves every "model_" name; model_kwargs is LangChain's convention.
    model_config = ConfigDict(protected_namespaces=(), use_attribute_docstrings=True)

    model: str = Field(min_length=1)
    """Embedding model id, exactly as ``GET /models`` lists it."""
    chunk_size: int = Field(default=DEFAULT_CHUNK_SIZE, ge=1)
    """Texts per request in ``embed_documents``; batches go out up to ``max_concurrency``
    at a time."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra JSON body fields for backend extras."""

    @field_validator("model_kwargs")
    @classmethod
    def _no_reserved_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Validated parameters go in their fields, not around them."""
        check_extra_body(value, "model_kwargs", "AtomaEmbeddings")
        return value

    # --- requests ------------------------------------------------------------------------

    def _params(self, texts: str | list[str]) -> EmbeddingParams:
        return self.embedding_params(self.model, texts, self.model_kwargs)

    def _batches(self, texts: list[str]) -> list[EmbeddingParams]:
        return [self._params(batch) for batch in batched(texts, self.chunk_size)]

    def _query_params(self, text: str) -> EmbeddingParams:
        return self._params(checked_query(text, "query"))

    # --- sync ----------------------------------------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order; ``chunk_size`` texts per request, several
        requests in flight (at most ``max_concurrency``)."""
        listed = checked_texts(texts)
        if not listed:
            return []
        settings = self._settings()
        tasks = [_embed_task(settings, params) for params in self._batches(listed)]
        return [vector for batch in run_bounded(tasks, self.max_concurrency) for vector in batch]

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        params = self._query_params(text)
        with typed_errors():
            response = sync_client_for(self._settings()).embeddings.create(**params)
        return response.data[0].embedding

    # --- async ---------------------------------------------------------------------------

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """The async twin of :meth:`embed_documents`, on ``AsyncAtomaClient``."""
        listed = checked_texts(texts)
        if not listed:
            return []
        settings = self._settings()
        tasks = [_aembed_task(settings, params) for params in self._batches(listed)]
        batches: list[list[list[float]]] = await gather_bounded(tasks, self.max_concurrency)
        return [vector for batch in batches for vector in batch]

    async def aembed_query(self, text: str) -> list[float]:
        """The async twin of :meth:`embed_query`."""
        params = self._query_params(text)
        with typed_errors():
            response = await async_client_for(self._settings()).embeddings.create(**params)
        return response.data[0].embedding


def _embed_task(settings: ClientSettings, params: EmbeddingParams) -> Callable[[], Any]:
    def run() -> list[list[float]]:
        with typed_errors():
            return sync_client_for(settings).embeddings.create(**params).embeddings

    return run


def _aembed_task(settings: ClientSettings, params: EmbeddingParams) -> Callable[[], Any]:
    async def run() -> list[list[float]]:
        with typed_errors():
            response = await async_client_for(settings).embeddings.create(**params)
        return response.embeddings

    return run

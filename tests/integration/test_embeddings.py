"""Embeddings against the real llama.cpp server: the client, AtomaEmbeddings (LangChain) and
AtomaEmbedding (LlamaIndex), sync and async, on the server's embedding id (tiny: 64 floats,
mean-pooled, one vector per input, deterministic)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.callbacks import CallbackManager
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter

from atoma_integrations import AsyncAtomaClient, AtomaClient, BadRequestError, InternalServerError
from atoma_integrations.langchain import AtomaEmbeddings
from atoma_integrations.llama_index import AtomaEmbedding

TEXTS = [
    "The sky over Lisbon is blue in summer.",
    "Atoma serves open models behind an OpenAI-style API.",
    "Streamed tokens arrive one by one.",
    "A vector store keeps one vector per chunk of text.",
    "Retrieval finds the chunks nearest to the question.",
]


def close(a: list[float], b: list[float]) -> bool:
    """Equal up to float32 noise (a batch may be computed in another order)."""
    return a == pytest.approx(b, rel=1e-4, abs=1e-5)


def test_one_vector_per_input_in_order_with_usage(
    client: AtomaClient, server_embed_model: str
) -> None:
    response = client.embeddings.create(model=server_embed_model, input=TEXTS)
    assert [item.index for item in response.data] == list(range(len(TEXTS)))
    vectors = response.embeddings
    assert len({len(v) for v in vectors}) == 1 and len(vectors[0]) > 0
    assert all(isinstance(x, float) for x in vectors[0])
    assert len({tuple(v) for v in vectors}) == len(TEXTS)  # different texts, different vectors
    assert response.model == server_embed_model
    assert response.usage is not None and response.usage.prompt_tokens > 0
    for text, vector in zip(TEXTS, vectors, strict=True):
        single = client.embeddings.create(model=server_embed_model, input=text).data[0].embedding
        assert close(single, vector)


async def test_async_client_gives_the_same_vectors(
    client: AtomaClient, async_client: AsyncAtomaClient, server_embed_model: str
) -> None:
    sync = client.embeddings.create(model=server_embed_model, input=TEXTS[:3]).embeddings
    response = await async_client.embeddings.create(model=server_embed_model, input=TEXTS[:3])
    assert all(close(a, b) for a, b in zip(response.embeddings, sync, strict=True))


def test_the_completion_id_is_a_typed_error(client: AtomaClient, server_model: str) -> None:
    # llama-cpp-python answers 500 "must be created with embedding=True" for a model
    # loaded without embeddings (Atoma would answer 400 for a model it does not serve).
    with pytest.raises((InternalServerError, BadRequestError), match="embedding"):
        client.embeddings.create(model=server_model, input="x")


# --- LangChain ---------------------------------------------------------------------------


@pytest.fixture
def lc_embeddings(server_base_url: str, server_embed_model: str) -> AtomaEmbeddings:
    return AtomaEmbeddings(
        model=server_embed_model, base_url=server_base_url, chunk_size=2, max_retries=0
    )


def test_langchain_documents_in_batches_equal_queries(
    lc_embeddings: AtomaEmbeddings, client: AtomaClient, server_embed_model: str
) -> None:
    documents = lc_embeddings.embed_documents(TEXTS)  # 3 batches, in flight together
    assert len(documents) == len(TEXTS)
    for text, vector in zip(TEXTS, documents, strict=True):
        assert close(lc_embeddings.embed_query(text), vector)
    assert lc_embeddings.embed_documents([]) == []


async def test_langchain_async_equals_sync(lc_embeddings: AtomaEmbeddings) -> None:
    documents = await lc_embeddings.aembed_documents(TEXTS)
    sync = lc_embeddings.embed_documents(TEXTS)
    assert all(close(a, b) for a, b in zip(documents, sync, strict=True))
    assert close(await lc_embeddings.aembed_query(TEXTS[0]), sync[0])


def test_langchain_vector_store_finds_a_document_by_its_own_text(
    lc_embeddings: AtomaEmbeddings,
) -> None:
    store = InMemoryVectorStore.from_texts(TEXTS, lc_embeddings)
    for text in TEXTS:
        assert store.similarity_search(text, k=1)[0].page_content == text


# --- LlamaIndex --------------------------------------------------------------------------


@pytest.fixture
def li_embedding(server_base_url: str, server_embed_model: str) -> AtomaEmbedding:
    return AtomaEmbedding(
        model_name=server_embed_model, base_url=server_base_url, embed_batch_size=2, max_retries=0
    )


@pytest.fixture
def embed_settings(li_embedding: AtomaEmbedding) -> Iterator[AtomaEmbedding]:
    previous = Settings._embed_model
    Settings.embed_model = li_embedding
    try:
        yield li_embedding
    finally:
        Settings._embed_model = previous


def test_llama_index_batches_equal_single_texts(li_embedding: AtomaEmbedding) -> None:
    batch = li_embedding.get_text_embedding_batch(TEXTS)
    assert len(batch) == len(TEXTS)
    for text, vector in zip(TEXTS, batch, strict=True):
        assert close(li_embedding.get_text_embedding(text), vector)
    assert close(li_embedding.get_query_embedding(TEXTS[0]), batch[0])


async def test_llama_index_async_equals_sync(li_embedding: AtomaEmbedding) -> None:
    batch = await li_embedding.aget_text_embedding_batch(TEXTS)
    sync = li_embedding.get_text_embedding_batch(TEXTS)
    assert all(close(a, b) for a, b in zip(batch, sync, strict=True))
    assert close(await li_embedding.aget_query_embedding(TEXTS[1]), sync[1])


def test_vector_store_index_retrieves_a_document_by_its_own_text(
    embed_settings: AtomaEmbedding,
) -> None:
    index = VectorStoreIndex.from_documents([Document(text=t) for t in TEXTS])
    retriever = index.as_retriever(similarity_top_k=1)
    for text in TEXTS:
        assert retriever.retrieve(text)[0].node.get_content() == text


async def test_ingestion_pipeline_embeds_every_node_async(
    li_embedding: AtomaEmbedding,
) -> None:
    li_embedding.callback_manager = CallbackManager([])
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0), li_embedding]
    )
    nodes = await pipeline.arun(documents=[Document(text=t) for t in TEXTS])
    assert len(nodes) == len(TEXTS)
    assert all(
        node.embedding and len(node.embedding) == len(nodes[0].embedding or []) for node in nodes
    )

"""Embedding batches go out together, bounded by max_concurrency, vectors in input order.

Observed at a real loopback server that counts the requests it holds at once (see
test_langchain_concurrency.py for how it holds them without any sleep).
"""

from __future__ import annotations

import pytest

from atoma_integrations.langchain import AtomaEmbeddings
from atoma_integrations.llama_index import AtomaEmbedding
from tests.support.mock_server import vector_for
from tests.unit.test_langchain_concurrency import InFlightServer, in_flight_server

__all__ = ["in_flight_server"]  # the fixture, imported to be shared


def texts(count: int) -> list[str]:
    return [f"text {i} " + "x" * i for i in range(count)]


@pytest.mark.parametrize(("count", "chunk_size", "limit"), [(12, 2, 3), (9, 3, 8), (10, 1, 4)])
def test_embed_documents_keeps_max_concurrency_batches_in_flight(
    in_flight_server: InFlightServer, count: int, chunk_size: int, limit: int
) -> None:
    batches = -(-count // chunk_size)
    in_flight_server.expect(batches, limit)
    embeddings = AtomaEmbeddings(
        model="m", base_url=in_flight_server.base_url, chunk_size=chunk_size, max_concurrency=limit
    )
    assert embeddings.embed_documents(texts(count)) == [vector_for(t) for t in texts(count)]
    assert in_flight_server.arrived == batches
    assert in_flight_server.max_in_flight == min(batches, limit)


@pytest.mark.parametrize(("count", "chunk_size", "limit"), [(12, 2, 3), (9, 3, 8)])
async def test_aembed_documents_keeps_max_concurrency_batches_in_flight(
    in_flight_server: InFlightServer, count: int, chunk_size: int, limit: int
) -> None:
    batches = -(-count // chunk_size)
    in_flight_server.expect(batches, limit)
    embeddings = AtomaEmbeddings(
        model="m", base_url=in_flight_server.base_url, chunk_size=chunk_size, max_concurrency=limit
    )
    assert await embeddings.aembed_documents(texts(count)) == [vector_for(t) for t in texts(count)]
    assert in_flight_server.max_in_flight == min(batches, limit)


async def test_llama_index_async_batches_run_together(in_flight_server: InFlightServer) -> None:
    in_flight_server.expect(4, 4)
    embed = AtomaEmbedding(model_name="m", base_url=in_flight_server.base_url, embed_batch_size=2)
    vectors = await embed.aget_text_embedding_batch(texts(8))
    assert vectors == [vector_for(t) for t in texts(8)]
    assert in_flight_server.max_in_flight == 4

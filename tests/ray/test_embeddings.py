"""Embeddings on Ray Data against the real local server: every row's vector, none lost.

Runs after the chat and completion tests: the server swaps to its embedding model once.
Vectors are compared with a small tolerance (a text's vector may differ in the last bits
with the other texts of its request), usage exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import ray
import ray.data

from atoma_integrations import AsyncAtomaClient, AtomaClient
from atoma_integrations.langchain import AtomaEmbeddings
from atoma_integrations.llama_index import AtomaEmbedding
from atoma_integrations.ray import EmbedColumn, map_column

from . import _recipes

ROWS = 600
TEXTS = [
    f"Document {i} is about the {('sea', 'sky', 'road', 'hill')[i % 4]} and {i % 13}"
    for i in range(ROWS)
]

Expected = dict[str, tuple[np.ndarray, int]]


@pytest.fixture(scope="module")
def expected(server_base_url: str, server_embed_model: str) -> Expected:
    """Each text's vector and prompt tokens, one request per text."""
    vectors: Expected = {}
    with AtomaClient(base_url=server_base_url, max_retries=0) as client:
        for text in TEXTS:
            response = client.embeddings.create(model=server_embed_model, input=[text])
            assert response.usage is not None
            vectors[text] = (
                np.asarray(response.data[0].embedding, dtype=np.float32),
                response.usage.prompt_tokens,
            )
    return vectors


def _dataset(rows: int) -> ray.data.Dataset:
    return ray.data.from_items([{"id": i, "text": TEXTS[i]} for i in range(rows)])


def _check(rows: list[dict[str, Any]], count: int, expected: Expected) -> None:
    assert sorted(int(r["id"]) for r in rows) == list(range(count)), "rows lost or duplicated"
    for row in rows:
        vector = np.asarray(row["embedding"])
        assert vector.dtype == np.float32
        np.testing.assert_allclose(vector, expected[TEXTS[int(row["id"])]][0], rtol=1e-3, atol=1e-4)


@pytest.mark.timeout(600)
def test_embedding_rows_through_the_client_match_the_server_and_usage_adds_up(
    ray_cluster: Any, server_base_url: str, server_embed_model: str, expected: Expected
) -> None:
    client = AsyncAtomaClient(base_url=server_base_url, max_retries=0)
    out = map_column(
        _dataset(ROWS),
        EmbedColumn,
        source=client,
        model=server_embed_model,
        inputs_per_request=16,
        actors=2,
        max_in_flight=4,
        batch_size=100,
    ).take_all()

    _check(out, ROWS, expected)
    # Usage is per request (on its first row): the column sums to every text's tokens.
    billed = sum(t for _, t in expected.values())
    assert sum(int(r["embedding_prompt_tokens"]) for r in out) == billed
    assert sum(int(r["embedding_total_tokens"]) for r in out) == billed
    assert not [name for name in out[0] if name.endswith("completion_tokens")]


SOURCES: dict[str, Callable[[str, str], object]] = {
    "AtomaEmbeddings (LangChain)": lambda url, model: AtomaEmbeddings(model=model, base_url=url),
    "AtomaEmbedding (LlamaIndex)": lambda url, model: AtomaEmbedding(
        model_name=model, base_url=url
    ),
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_the_embedding_helper_takes_both_adapters(
    name: str, ray_cluster: Any, server_base_url: str, server_embed_model: str, expected: Expected
) -> None:
    source = SOURCES[name](server_base_url, server_embed_model)
    out = map_column(
        _dataset(60), EmbedColumn, source=source, inputs_per_request=8, batch_size=30
    ).take_all()
    _check(out, 60, expected)
    # The adapters do not report usage.
    assert all(r["embedding_prompt_tokens"] is None for r in out)


RECIPES: dict[str, tuple[type, Callable[[str, str], object]]] = {
    "AtomaEmbeddings (LangChain aembed_documents)": (
        _recipes.EmbedWithLangChain,
        lambda url, model: AtomaEmbeddings(model=model, base_url=url, chunk_size=8),
    ),
    "AtomaEmbedding (LlamaIndex aget_text_embedding_batch)": (
        _recipes.EmbedWithLlamaIndex,
        lambda url, model: AtomaEmbedding(model_name=model, base_url=url, embed_batch_size=8),
    ),
}


@pytest.mark.parametrize("name", list(RECIPES))
def test_by_hand_embeddings_on_an_actor_pool(
    name: str, ray_cluster: Any, server_base_url: str, server_embed_model: str, expected: Expected
) -> None:
    cls, build = RECIPES[name]
    out = (
        _dataset(40)
        .map_batches(
            cls,
            fn_constructor_args=(build(server_base_url, server_embed_model),),
            compute=ray.data.ActorPoolStrategy(size=1),
            batch_size=20,
        )
        .take_all()
    )
    _check(out, 40, expected)

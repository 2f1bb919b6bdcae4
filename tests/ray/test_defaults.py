"""``map_column``'s defaults, as the README and docs/scale_out.md use them, on a real cluster.

- Two column steps on one dataset (ChatColumn then EmbedColumn) each keep their usage.
- Four actors on the session's 2-CPU cluster all start: ``read_parquet | map_column(...,
  actors=4) | write_parquet`` finishes (with Ray's one CPU per actor it waited forever).
Kept small: a few rows, a few tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import ray
import ray.data

from atoma_integrations import AtomaClient
from atoma_integrations.langchain import AtomaLLM, ChatAtoma
from atoma_integrations.ray import ChatColumn, CompleteColumn, EmbedColumn, map_column

pytestmark = [pytest.mark.ray, pytest.mark.integration]

MAX_TOKENS = 4
ROWS = 12


@pytest.mark.timeout(300)
def test_chat_then_embed_on_one_dataset_keep_both_usages(
    ray_cluster: Any, server_base_url: str, server_chat_model: str, server_embed_model: str
) -> None:
    ds = ray.data.from_items(
        [{"id": i, "question": f"Why is sky {i} blue?", "text": f"Sky {i}."} for i in range(ROWS)]
    )
    chat = ChatAtoma(
        model=server_chat_model, base_url=server_base_url, max_tokens=MAX_TOKENS, temperature=0
    )
    embeddings = AtomaClient(base_url=server_base_url, max_retries=0)
    ds = map_column(ds, ChatColumn, source=chat, input_column="question")
    ds = map_column(ds, EmbedColumn, source=embeddings, model=server_embed_model)
    out = ds.take_all()

    assert sorted(int(r["id"]) for r in out) == list(range(ROWS))
    with AtomaClient(base_url=server_base_url, max_retries=0) as client:
        for row in out:
            answer = client.chat.completions.create(
                model=server_chat_model,
                messages=[{"role": "user", "content": row["question"]}],
                max_tokens=MAX_TOKENS,
                temperature=0,
            )
            assert answer.usage is not None
            assert row["response"] == answer.choices[0].message.content
            assert int(row["response_total_tokens"]) == answer.usage.total_tokens
            assert int(row["response_prompt_tokens"]) == answer.usage.prompt_tokens
    # Embedding usage is per request (on its first row): the column sums to every text's.
    with AtomaClient(base_url=server_base_url, max_retries=0) as client:
        texts = [r["text"] for r in out]
        billed = sum(
            client.embeddings.create(model=server_embed_model, input=[t]).usage.prompt_tokens
            for t in texts
        )
    assert sum(int(r["embedding_prompt_tokens"]) for r in out) == billed
    assert all(len(r["embedding"]) > 0 for r in out)


@pytest.mark.timeout(300)
def test_four_actors_finish_a_parquet_job_on_two_cpus_with_the_defaults(
    ray_cluster: Any, server_base_url: str, server_model: str, tmp_path: Path
) -> None:
    assert ray.cluster_resources()["CPU"] == 2
    prompts = tmp_path / "prompts.parquet"
    ray.data.from_items([{"prompt": f"Fact {i}:"} for i in range(ROWS)]).write_parquet(str(prompts))
    llm = AtomaLLM(model=server_model, base_url=server_base_url, max_tokens=MAX_TOKENS)

    ds = map_column(
        ray.data.read_parquet(str(prompts)), CompleteColumn, source=llm, actors=4, batch_size=2
    )
    ds.write_parquet(str(tmp_path / "completions"))

    table = pq.read_table(str(tmp_path / "completions"))
    assert table.num_rows == ROWS
    assert sorted(table.column("prompt").to_pylist()) == sorted(f"Fact {i}:" for i in range(ROWS))
    assert all(isinstance(t, str) for t in table.column("completion").to_pylist())
    tokens = table.column("completion_completion_tokens").to_pylist()
    assert all(0 < n <= MAX_TOKENS for n in tokens)

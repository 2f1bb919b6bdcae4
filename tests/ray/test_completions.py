"""Completions on Ray Data against the real local server: every row right, none lost.

The tiny model is deterministic at temperature 0 and the server answers one request at a
time, so the expected answer of every prompt is computed once with the plain client and
each Ray run must reproduce it row by row, with its usage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import ray
import ray.data

from atoma_integrations import AsyncAtomaClient, AtomaClient
from atoma_integrations.langchain import AtomaLLM
from atoma_integrations.llama_index import Atoma
from atoma_integrations.ray import USAGE_COLUMNS, CompleteColumn, map_column

from . import _recipes

MAX_TOKENS = 4
ROWS = 2000
# Several words per prompt so that answers differ from row to row.
PROMPTS = [
    f"Row {i}: the {('sea', 'sky', 'hill', 'road')[i % 4]} at {i % 97} o'clock" for i in range(ROWS)
]


@pytest.fixture(scope="module")
def expected(server_base_url: str, server_model: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The server's answer and usage for every prompt, from the plain sync client."""
    answers = {}
    with AtomaClient(base_url=server_base_url, max_retries=0) as client:
        for prompt in PROMPTS:
            c = client.completions.create(
                model=server_model, prompt=prompt, max_tokens=MAX_TOKENS, temperature=0
            )
            assert c.usage is not None
            usage = (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens)
            answers[prompt] = (c.choices[0].text, usage)
    assert len({text for text, _ in answers.values()}) > 1, "answers should vary by prompt"
    return answers


def _dataset(rows: int) -> ray.data.Dataset:
    return ray.data.from_items([{"id": i, "prompt": PROMPTS[i]} for i in range(rows)])


def _check_rows(
    rows: list[dict[str, Any]], count: int, expected: dict[str, tuple[str, tuple[int, ...]]]
) -> None:
    assert sorted(int(r["id"]) for r in rows) == list(range(count)), "rows lost or duplicated"
    for row in rows:
        assert row["prompt"] == PROMPTS[int(row["id"])]
        assert row["completion"] == expected[row["prompt"]][0], row


@pytest.mark.timeout(900)
def test_2000_prompts_through_an_adapter_match_the_server_row_by_row(
    ray_cluster: Any,
    server_base_url: str,
    server_model: str,
    expected: dict[str, tuple[str, tuple[int, ...]]],
) -> None:
    llm = AtomaLLM(
        model=server_model, base_url=server_base_url, max_tokens=MAX_TOKENS, temperature=0
    )
    out = map_column(
        _dataset(ROWS), CompleteColumn, source=llm, actors=2, max_in_flight=8, batch_size=100
    ).take_all()

    _check_rows(out, ROWS, expected)
    for row in out:
        usage = tuple(int(row[f"completion_{name}"]) for name in USAGE_COLUMNS)
        assert usage == expected[row["prompt"]][1]
    # Usage summed over what every worker reported equals the sum of per-request usage.
    for i, name in enumerate(USAGE_COLUMNS):
        assert sum(int(r[f"completion_{name}"]) for r in out) == sum(
            u[i] for _, u in expected.values()
        )


SOURCES: dict[str, Callable[[str, str], object]] = {
    "AtomaClient": lambda url, model: AtomaClient(base_url=url, max_retries=0),
    "AsyncAtomaClient": lambda url, model: AsyncAtomaClient(base_url=url, max_retries=0),
    "Atoma (LlamaIndex)": lambda url, model: Atoma(
        model=model, base_url=url, max_tokens=MAX_TOKENS, temperature=0, context_window=2048
    ),
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_the_helper_takes_every_client_and_adapter(
    name: str,
    ray_cluster: Any,
    server_base_url: str,
    server_model: str,
    expected: dict[str, tuple[str, tuple[int, ...]]],
) -> None:
    source = SOURCES[name](server_base_url, server_model)
    params: dict[str, Any] = (
        {"model": server_model, "max_tokens": MAX_TOKENS, "temperature": 0}
        if isinstance(source, (AtomaClient, AsyncAtomaClient))
        else {}
    )
    out = map_column(
        _dataset(40), CompleteColumn, source=source, batch_size=16, **params
    ).take_all()
    _check_rows(out, 40, expected)
    assert [int(r["completion_total_tokens"]) for r in sorted(out, key=lambda r: int(r["id"]))] == [
        expected[PROMPTS[i]][1][2] for i in range(40)
    ]


def test_by_hand_sync_client_in_a_map_batches_function(
    ray_cluster: Any,
    server_base_url: str,
    server_model: str,
    expected: dict[str, tuple[str, tuple[int, ...]]],
) -> None:
    client = AtomaClient(base_url=server_base_url, max_retries=0)
    ds = ray.data.from_items(
        [{"id": i, "prompt": PROMPTS[i], "model": server_model} for i in range(30)]
    )
    out = ds.map_batches(
        _recipes.complete_with_client, fn_kwargs={"client": client}, batch_size=10
    ).take_all()
    _check_rows(out, 30, expected)


RECIPES: dict[str, tuple[type, Callable[[str, str], object]]] = {
    "AsyncAtomaClient": (
        _recipes.CompleteWithAsyncClient,
        lambda url, model: AsyncAtomaClient(base_url=url, max_retries=0),
    ),
    "AtomaLLM (LangChain abatch)": (
        _recipes.CompleteWithLangChain,
        lambda url, model: AtomaLLM(
            model=model, base_url=url, max_tokens=MAX_TOKENS, temperature=0
        ),
    ),
    "Atoma (LlamaIndex acomplete)": (
        _recipes.CompleteWithLlamaIndex,
        lambda url, model: Atoma(
            model=model, base_url=url, max_tokens=MAX_TOKENS, temperature=0, context_window=2048
        ),
    ),
}


@pytest.mark.parametrize("name", list(RECIPES))
def test_by_hand_callable_class_on_an_actor_pool(
    name: str,
    ray_cluster: Any,
    server_base_url: str,
    server_model: str,
    expected: dict[str, tuple[str, tuple[int, ...]]],
) -> None:
    cls, build = RECIPES[name]
    source = build(server_base_url, server_model)
    args: tuple[Any, ...] = (
        (source, server_model) if cls is _recipes.CompleteWithAsyncClient else (source,)
    )
    out = (
        _dataset(30)
        .map_batches(
            cls,
            fn_constructor_args=args,
            compute=ray.data.ActorPoolStrategy(size=1),
            batch_size=10,
        )
        .take_all()
    )
    _check_rows(out, 30, expected)

"""Chat completions on Ray Data against the real local server, row by row.

Runs before the completion tests (same model id), so the server does not swap models.
The expected answer of every prompt comes from the plain client (greedy, deterministic).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import ray
import ray.data

from atoma_integrations import AsyncAtomaClient, AtomaClient
from atoma_integrations.langchain import ChatAtoma
from atoma_integrations.llama_index import AtomaChat
from atoma_integrations.ray import USAGE_COLUMNS, ChatColumn, map_column

from . import _recipes

MAX_TOKENS = 4
ROWS = 400
PROMPTS = [
    f"Question {i}: why is the {('sea', 'sky', 'grass')[i % 3]} {i % 11}?" for i in range(ROWS)
]
SYSTEM = "Answer in one word."

Expected = dict[tuple[str | None, str], tuple[str, tuple[int, ...]]]


@pytest.fixture(scope="module")
def expected(server_base_url: str, server_chat_model: str) -> Expected:
    """The server's reply and usage for every prompt (and for a few with a system prompt)."""
    answers: Expected = {}
    with AtomaClient(base_url=server_base_url, max_retries=0) as client:
        for system, prompts in ((None, PROMPTS), (SYSTEM, PROMPTS[:20])):
            for prompt in prompts:
                messages = [{"role": "user", "content": prompt}]
                if system is not None:
                    messages.insert(0, {"role": "system", "content": system})
                c = client.chat.completions.create(
                    model=server_chat_model, messages=messages, max_tokens=MAX_TOKENS, temperature=0
                )
                assert c.usage is not None and c.choices[0].message.content is not None
                usage = (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens)
                answers[(system, prompt)] = (c.choices[0].message.content, usage)
    assert len({text for text, _ in answers.values()}) > 1, "answers should vary by prompt"
    return answers


def _dataset(rows: int) -> ray.data.Dataset:
    return ray.data.from_items([{"id": i, "prompt": PROMPTS[i]} for i in range(rows)])


def _check(
    rows: list[dict[str, Any]], count: int, expected: Expected, system: str | None = None
) -> None:
    assert sorted(int(r["id"]) for r in rows) == list(range(count)), "rows lost or duplicated"
    for row in rows:
        assert row["response"] == expected[(system, PROMPTS[int(row["id"])])][0], row


@pytest.mark.timeout(600)
def test_chat_rows_through_an_adapter_match_the_server_row_by_row(
    ray_cluster: Any, server_base_url: str, server_chat_model: str, expected: Expected
) -> None:
    chat = ChatAtoma(
        model=server_chat_model, base_url=server_base_url, max_tokens=MAX_TOKENS, temperature=0
    )
    out = map_column(
        _dataset(ROWS),
        ChatColumn,
        source=chat,
        input_column="prompt",
        actors=2,
        max_in_flight=8,
        batch_size=50,
    ).take_all()

    _check(out, ROWS, expected)
    for i, name in enumerate(USAGE_COLUMNS):
        assert sum(int(r[f"response_{name}"]) for r in out) == sum(
            u[i] for (s, _), (_, u) in expected.items() if s is None
        )


SOURCES: dict[str, Callable[[str, str], object]] = {
    "AsyncAtomaClient": lambda url, model: AsyncAtomaClient(base_url=url, max_retries=0),
    "AtomaChat (LlamaIndex)": lambda url, model: AtomaChat(
        model=model, base_url=url, max_tokens=MAX_TOKENS, temperature=0, context_window=2048
    ),
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_the_chat_helper_takes_messages_lists_and_a_system_prompt(
    name: str, ray_cluster: Any, server_base_url: str, server_chat_model: str, expected: Expected
) -> None:
    source = SOURCES[name](server_base_url, server_chat_model)
    params: dict[str, Any] = (
        {"model": server_chat_model, "max_tokens": MAX_TOKENS, "temperature": 0}
        if isinstance(source, AsyncAtomaClient)
        else {}
    )
    # A column of message lists (Ray hands each row over as an array of dicts).
    ds = ray.data.from_items(
        [{"id": i, "messages": [{"role": "user", "content": PROMPTS[i]}]} for i in range(20)]
    )
    out = map_column(
        ds, ChatColumn, source=source, system_prompt=SYSTEM, batch_size=10, **params
    ).take_all()
    _check(out, 20, expected, SYSTEM)
    assert all(
        int(r["response_total_tokens"]) == expected[(SYSTEM, PROMPTS[int(r["id"])])][1][2]
        for r in out
    )


RECIPES: dict[str, tuple[type, Callable[[str, str], object]]] = {
    "ChatAtoma (LangChain abatch)": (
        _recipes.ChatWithLangChain,
        lambda url, model: ChatAtoma(
            model=model, base_url=url, max_tokens=MAX_TOKENS, temperature=0
        ),
    ),
    "AtomaChat (LlamaIndex achat)": (
        _recipes.ChatWithLlamaIndex,
        lambda url, model: AtomaChat(
            model=model, base_url=url, max_tokens=MAX_TOKENS, temperature=0, context_window=2048
        ),
    ),
}


@pytest.mark.parametrize("name", list(RECIPES))
def test_by_hand_chat_on_an_actor_pool(
    name: str, ray_cluster: Any, server_base_url: str, server_chat_model: str, expected: Expected
) -> None:
    cls, build = RECIPES[name]
    out = (
        _dataset(20)
        .map_batches(
            cls,
            fn_constructor_args=(build(server_base_url, server_chat_model),),
            compute=ray.data.ActorPoolStrategy(size=1),
            batch_size=10,
        )
        .take_all()
    )
    _check(out, 20, expected)

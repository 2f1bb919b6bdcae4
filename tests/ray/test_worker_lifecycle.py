"""What a Ray worker does with the column classes, without starting Ray.

A Ray async actor runs its calls on an event loop in a thread of its own, never shut down,
and its process then exits normally. The subprocess below does exactly that with a
``CompleteColumn`` (against the scripted stand-in server): nothing may print "Unclosed
client session" at exit. And ``map_column``'s defaults are what it hands to Ray.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from atoma_integrations import AsyncAtomaClient
from atoma_integrations.langchain import AtomaEmbeddings, ChatAtoma
from atoma_integrations.ray import (
    DEFAULT_ACTOR_CPUS,
    ChatColumn,
    CompleteColumn,
    EmbedColumn,
    map_column,
)
from tests.support.atoma_stand_in import AtomaStandIn

WORKER = textwrap.dedent(
    """
    import asyncio, sys, threading
    import numpy as np
    from atoma_integrations import AsyncAtomaClient
    from atoma_integrations.langchain import AtomaLLM
    from atoma_integrations.ray import CompleteColumn

    url = sys.argv[1]
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()  # as Ray's actor loop
    for source, params in (
        (AsyncAtomaClient(base_url=url, max_retries=0), {"model": "m", "max_tokens": 4}),
        (AtomaLLM(model="m", base_url=url, max_tokens=4), {}),
    ):
        column = CompleteColumn(source, **params)
        batch = {"prompt": np.array(["a", "b"], dtype=object)}
        out = asyncio.run_coroutine_threadsafe(column(batch), loop).result(30)
        assert list(out["completion"]) == [out["completion"][0]] * 2, out
    print("done", flush=True)
    """
)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[AtomaStandIn]:
    with AtomaStandIn() as server:
        yield server


def test_a_worker_exits_without_an_unclosed_client_session(stand_in: AtomaStandIn) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", WORKER, stand_in.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert "Unclosed" not in result.stderr, result.stderr


# -- the defaults map_column hands to Ray ------------------------------------------------------


class _Recorder:
    """Stands in for a Ray ``Dataset``: records the ``map_batches`` call."""

    def __init__(self) -> None:
        self.context = type("Context", (), {})()
        self.kwargs: dict[str, Any] = {}

    def map_batches(self, fn: Any, **kwargs: Any) -> _Recorder:
        self.kwargs = kwargs
        return self


def test_map_column_actors_reserve_a_quarter_cpu_unless_told() -> None:
    source = AsyncAtomaClient(base_url="http://127.0.0.1:9/v1")
    recorder = _Recorder()
    map_column(recorder, CompleteColumn, source=source, model="m", actors=4)  # type: ignore[arg-type]
    assert recorder.kwargs["num_cpus"] == DEFAULT_ACTOR_CPUS == 0.25
    assert recorder.kwargs["compute"].min_size == recorder.kwargs["compute"].max_size == 4
    map_column(recorder, CompleteColumn, source=source, model="m", num_cpus=1)  # type: ignore[arg-type]
    assert recorder.kwargs["num_cpus"] == 1
    for bad in (0, -1, True, "1"):
        with pytest.raises(ValueError, match="num_cpus must be a positive number"):
            map_column(recorder, CompleteColumn, source=source, model="m", num_cpus=bad)  # type: ignore[arg-type]


# -- usage column names --------------------------------------------------------------------------


def test_usage_columns_are_named_after_the_output_column_so_steps_chain() -> None:
    client = AsyncAtomaClient(base_url="http://127.0.0.1:9/v1")
    chat = ChatAtoma(model="m", base_url="http://127.0.0.1:9/v1")
    embeddings = AtomaEmbeddings(model="e", base_url="http://127.0.0.1:9/v1")
    assert CompleteColumn(client, model="m").usage_column_names == (
        "completion_prompt_tokens",
        "completion_completion_tokens",
        "completion_total_tokens",
    )
    chat_names = ChatColumn(chat).usage_column_names
    embed_names = EmbedColumn(embeddings).usage_column_names
    assert chat_names == (
        "response_prompt_tokens",
        "response_completion_tokens",
        "response_total_tokens",
    )
    assert embed_names == ("embedding_prompt_tokens", "embedding_total_tokens")
    assert not set(chat_names) & set(embed_names)
    assert ChatColumn(chat, output_column="answer").usage_column_names[0] == "answer_prompt_tokens"


def test_an_empty_usage_prefix_gives_the_bare_names_of_earlier_versions() -> None:
    client = AsyncAtomaClient(base_url="http://127.0.0.1:9/v1")
    assert CompleteColumn(client, model="m", usage_prefix="").usage_column_names == (
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
    )
    assert CompleteColumn(client, model="m", usage_prefix="c.").usage_column_names[2] == (
        "c.total_tokens"
    )
    with pytest.raises(TypeError, match="usage_prefix must be a string"):
        CompleteColumn(client, model="m", usage_prefix=1)

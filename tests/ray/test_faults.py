"""Rows that fail on Ray: the job fails with the typed error, or the errors go to a column.

The fault server answers each request from its prompt: ``BAD`` prompts get a 400, ``BUSY``
prompts a 429 every time (so the client retries, then gives up), the rest a completion.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import ray
import ray.data

from atoma_integrations import AsyncAtomaClient, BadRequestError, RateLimitError
from atoma_integrations.ray import CompleteColumn, EmbedColumn, map_column
from tests.support.fault_server import (
    Behaviour,
    FaultServer,
    RecordedRequest,
    completion_reply,
    embeddings_reply,
    error_reply,
)

ROWS = 200
BAD = {17, 64, 150}
BUSY = {99}


def _prompt(i: int) -> str:
    return f"BAD {i}" if i in BAD else f"BUSY {i}" if i in BUSY else f"fine {i}"


def _answer(request: RecordedRequest) -> Behaviour:
    prompt = json.loads(request.body)["prompt"]
    if prompt.startswith("BAD"):
        return error_reply(400, code="BAD_REQUEST", message=f"cannot take {prompt!r}")
    if prompt.startswith("BUSY"):
        return error_reply(429, code="TOO_MANY_REQUESTS", message="Too many requests")
    return completion_reply(f"echo {prompt}")


@pytest.fixture
def server() -> Iterator[FaultServer]:
    server = FaultServer(max_answer_seconds=10.0).start()
    server.always(_answer)
    try:
        yield server
    finally:
        server.stop()


def _dataset() -> ray.data.Dataset:
    return ray.data.from_items([{"id": i, "prompt": _prompt(i)} for i in range(ROWS)])


def _column(server: FaultServer, **options: Any) -> ray.data.Dataset:
    client = AsyncAtomaClient(base_url=server.url, max_retries=1)
    return map_column(
        _dataset(),
        CompleteColumn,
        source=client,
        model="fault-model",
        max_tokens=3,
        batch_size=50,
        **options,
    )


def test_by_default_a_failed_row_fails_the_job_with_its_typed_error(
    ray_cluster: Any, server: FaultServer
) -> None:
    with pytest.raises((BadRequestError, RateLimitError)) as caught:
        _column(server).take_all()
    error = caught.value
    # The driver gets the package's error class with its fields, not Ray's UserCodeException.
    assert error.status_code in (400, 429)
    assert error.code in ("BAD_REQUEST", "TOO_MANY_REQUESTS")
    assert error.request_id == "req-fault-1"


def test_error_column_mode_keeps_every_other_row_and_records_each_failure(
    ray_cluster: Any, server: FaultServer
) -> None:
    rows = {int(r["id"]): r for r in _column(server, on_error="column").take_all()}

    assert sorted(rows) == list(range(ROWS))
    for i, row in rows.items():
        if i in BAD:
            assert row["completion"] is None
            assert row["error"].startswith("BadRequestError: ")
            assert f"cannot take 'BAD {i}'" in row["error"]
            assert row["completion_total_tokens"] is None
        elif i in BUSY:
            assert row["completion"] is None
            assert row["error"].startswith("RateLimitError: ")
        else:
            assert row["error"] is None
            assert row["completion"] == f"echo fine {i}"
            assert (
                row["completion_prompt_tokens"],
                row["completion_completion_tokens"],
                row["completion_total_tokens"],
            ) == (
                5,
                3,
                8,
            )
    # The 429 row was tried twice (max_retries=1) before it was recorded; a 400 only once.
    tries = [json.loads(r.body)["prompt"] for r in server.completions_requests()]
    assert tries.count("BUSY 99") == 2
    assert tries.count("BAD 17") == 1


def test_the_same_typed_error_reaches_a_by_hand_map_batches_with_the_documented_flag(
    ray_cluster: Any, server: FaultServer
) -> None:
    client = AsyncAtomaClient(base_url=server.url, max_retries=0)
    ds = ray.data.from_items([{"prompt": "BAD 1"}])
    ds.context.raise_original_map_exception = True
    with pytest.raises(BadRequestError) as caught:
        ds.map_batches(
            CompleteColumn,
            fn_constructor_kwargs={"source": client, "model": "m", "max_tokens": 3},
            compute=ray.data.ActorPoolStrategy(size=1),
        ).take_all()
    assert caught.value.status_code == 400


def _embed(request: RecordedRequest) -> Behaviour:
    texts = json.loads(request.body)["input"]
    if any(t.startswith("BAD") for t in texts):
        return error_reply(400, code="BAD_REQUEST", message="input rejected")
    return embeddings_reply(len(texts), dim=3)


def test_embeddings_error_column_on_ray_keeps_vectors_beside_failed_rows(
    ray_cluster: Any, server: FaultServer
) -> None:
    server.always(_embed)
    client = AsyncAtomaClient(base_url=server.url, max_retries=0)
    ds = ray.data.from_items([{"id": i, "text": _prompt(i)} for i in range(ROWS)])
    rows = map_column(
        ds,
        EmbedColumn,
        source=client,
        model="fault-embed",
        inputs_per_request=1,
        on_error="column",
        batch_size=50,
    ).take_all()

    assert sorted(int(r["id"]) for r in rows) == list(range(ROWS))
    for row in rows:
        if int(row["id"]) in BAD:
            assert row["embedding"] is None and row["error"].startswith("BadRequestError: ")
        else:
            assert row["error"] is None and list(row["embedding"]) == [0.0, 0.0, 0.0]

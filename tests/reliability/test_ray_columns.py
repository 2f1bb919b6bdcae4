"""The Ray column classes without Ray: checks before any request, row order, the in-flight
bound and both error modes, against the fault server (each row's answer scripted).

Ray calls ``await mapper(batch)`` on its actor's event loop; these tests do the same on
theirs, so what they show holds inside Ray (tests/ray runs the real thing).
"""

from __future__ import annotations

import asyncio
import json
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient, ConfigurationError, NotFoundError
from atoma_integrations.langchain import AtomaLLM
from atoma_integrations.ray import (
    USAGE_COLUMNS,
    ChatColumn,
    CompleteColumn,
    EmbedColumn,
    map_column,
)
from tests.support.fault_server import (
    Behaviour,
    FaultServer,
    RecordedRequest,
    Reply,
    completion_reply,
    embeddings_reply,
    error_reply,
)


def _echo(request: RecordedRequest) -> Behaviour:
    prompt = json.loads(request.body)["prompt"]
    if prompt.startswith("missing"):
        return error_reply(404, code="NOT_FOUND", message=f"no model for {prompt}")
    reply = completion_reply(f"<{prompt}>")
    return Reply(reply.status, reply.body, headers=reply.headers, delay=0.02)


def _mapper(server: FaultServer, **options: Any) -> CompleteColumn:
    client = AsyncAtomaClient(base_url=server.url, max_retries=0)
    return CompleteColumn(client, model="m", max_tokens=3, **options)


def _batch(prompts: list[str]) -> dict[str, np.ndarray]:
    return {"id": np.arange(len(prompts)), "prompt": np.array(prompts, dtype=object)}


# -- checked before any request -------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": "m", "max_tokens": -1}, "max_tokens"),
        ({"model": "m", "temperature": 7}, "temperature"),
        ({"max_tokens": 3}, "model is required"),
        ({"model": "m", "on_error": "skip"}, "on_error must be 'raise' or 'column'"),
        ({"model": "m", "max_in_flight": 0}, "max_in_flight must be at least 1"),
        ({"model": "m", "output_column": "prompt"}, "must differ"),
        (
            {"model": "m", "on_error": "column", "error_column": "completion_total_tokens"},
            "must differ",
        ),
        ({"model": "m", "usage_prefix": "", "output_column": "total_tokens"}, "must differ"),
        ({"model": "m", "stream": True}, "stream is not a parameter"),
    ],
)
def test_bad_arguments_fail_when_built_naming_what_is_wrong(
    options: dict[str, Any], message: str
) -> None:
    client = AsyncAtomaClient(base_url="http://127.0.0.1:9/v1")
    with pytest.raises((TypeError, ValueError), match=message):
        CompleteColumn(client, **options)


def test_an_adapter_carries_its_own_model_and_parameters() -> None:
    message = "n=2, but a dataset column holds one answer per request: use n=1"
    with pytest.raises(ValueError, match=message):
        CompleteColumn(AtomaLLM(model="m", base_url="http://127.0.0.1:9/v1", n=2))
    llm = AtomaLLM(model="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(TypeError, match="max_tokens, model: set these on the AtomaLLM"):
        CompleteColumn(llm, model="other", max_tokens=3)
    with pytest.raises(TypeError, match="source must be an AtomaClient"):
        CompleteColumn("http://127.0.0.1:9/v1")


def test_map_column_checks_on_the_driver_before_ray_is_imported() -> None:
    client = AsyncAtomaClient(base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="max_tokens"):
        map_column(object(), CompleteColumn, source=client, model="m", max_tokens=-1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="actors must be a positive int"):
        map_column(object(), CompleteColumn, actors=0, source=client, model="m")  # type: ignore[arg-type]


def test_a_batch_without_the_input_column_or_with_a_taken_name_is_refused(
    fault_server: FaultServer,
) -> None:
    mapper = _mapper(fault_server)
    with pytest.raises(KeyError, match=r"no column 'prompt'.*pass input_column"):
        asyncio.run(mapper({"text": np.array(["a"])}))
    with pytest.raises(ValueError, match=r"overwrite the batch's column\(s\) \['completion'\]"):
        asyncio.run(mapper({"prompt": np.array(["a"]), "completion": np.array(["x"])}))
    assert fault_server.requests == []


def test_pickling_rebuilds_a_working_mapper_without_an_environment_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env-in-the-driver")
    mapper = CompleteColumn(AtomaClient(), model="m", max_in_flight=3)
    payload = pickle.dumps(mapper)
    assert b"sk-env-in-the-driver" not in payload
    copy = pickle.loads(payload)
    assert (copy.max_in_flight, copy.input_column) == (3, "prompt")
    assert "sk-env" not in repr(copy)
    monkeypatch.delenv("ATOMA_API_KEY")
    with pytest.raises(ConfigurationError, match="ATOMA_API_KEY"):
        pickle.loads(payload)  # a worker without the key says so when the mapper is built


# -- a batch ----------------------------------------------------------------------------------


def test_every_row_gets_its_own_answer_and_usage_in_order(fault_server: FaultServer) -> None:
    fault_server.always(_echo)
    prompts = [f"p{i}" for i in range(40)]
    out = asyncio.run(_mapper(fault_server, max_in_flight=8)(_batch(prompts)))

    assert list(out["id"]) == list(range(40))
    assert list(out["completion"]) == [f"<p{i}>" for i in range(40)]
    usage = [list(out[f"completion_{name}"]) for name in USAGE_COLUMNS]
    assert usage == [[5] * 40, [3] * 40, [8] * 40]
    assert out["completion_total_tokens"].dtype == np.int64
    assert "error" not in out


def test_requests_in_flight_never_exceed_max_in_flight_across_concurrent_batches(
    fault_server: FaultServer,
) -> None:
    fault_server.always(_echo)
    mapper = _mapper(fault_server, max_in_flight=3)

    async def two_batches() -> None:
        # Ray runs several batches of one actor at once on its loop: the bound is shared.
        await asyncio.gather(mapper(_batch(["a"] * 10)), mapper(_batch(["b"] * 10)))

    asyncio.run(two_batches())
    requests = fault_server.completions_requests()
    assert len(requests) == 20
    events = sorted([(r.started, 1) for r in requests] + [(r.ended or 0.0, -1) for r in requests])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == 3


def test_by_default_the_first_failed_row_raises_its_typed_error(fault_server: FaultServer) -> None:
    fault_server.always(_echo)
    with pytest.raises(NotFoundError, match="no model for missing-3"):
        asyncio.run(_mapper(fault_server)(_batch(["a", "b", "missing-3", "c"])))


def test_column_mode_records_failures_and_keeps_every_other_row(fault_server: FaultServer) -> None:
    fault_server.always(_echo)
    prompts = ["a", "missing-1", "b", 7, "c"]
    out = asyncio.run(_mapper(fault_server, on_error="column", error_column="why")(_batch(prompts)))  # type: ignore[list-item]

    assert list(out["completion"]) == ["<a>", None, "<b>", None, "<c>"]
    assert out["why"][0] is None and out["why"][2] is None
    assert out["why"][1].startswith("NotFoundError: ") and "no model for missing-1" in out["why"][1]
    assert out["why"][3] == "TypeError: a prompt must be a string, got int: 7"
    assert list(out["completion_total_tokens"]) == [8, None, 8, None, 8]


def test_a_pandas_batch_comes_back_as_a_new_frame(fault_server: FaultServer) -> None:
    fault_server.always(_echo)
    frame = pd.DataFrame({"prompt": ["x", "y"]})
    out = asyncio.run(_mapper(fault_server, usage_columns=False)(frame))
    assert list(out.columns) == ["prompt", "completion"]
    assert list(out["completion"]) == ["<x>", "<y>"]
    assert list(frame.columns) == ["prompt"]


# -- chat and embeddings ----------------------------------------------------------------------


def _embed(request: RecordedRequest) -> Behaviour:
    texts = json.loads(request.body)["input"]
    if any(t.startswith("BAD") for t in texts):
        return error_reply(400, code="BAD_REQUEST", message="input rejected")
    return embeddings_reply(len(texts), dim=3)


def test_embed_column_sends_groups_of_rows_and_a_failed_request_fails_each_of_its_rows(
    fault_server: FaultServer,
) -> None:
    fault_server.always(_embed)
    client = AsyncAtomaClient(base_url=fault_server.url, max_retries=0)
    mapper = EmbedColumn(client, model="e", inputs_per_request=3, on_error="column")
    texts = ["a", "b", "c", "d", "BAD e", "f", "g"]
    out = asyncio.run(mapper({"text": np.array(texts, dtype=object)}))

    # The requests are in flight together, so they may reach the server in any order.
    assert sorted(json.loads(r.body)["input"] for r in fault_server.requests) == [
        ["a", "b", "c"],
        ["d", "BAD e", "f"],
        ["g"],
    ]
    vectors = list(out["embedding"])
    assert [None if v is None else v.tolist() for v in vectors] == [
        [0, 0, 0],
        [1, 1, 1],
        [2, 2, 2],
        None,
        None,
        None,
        [0, 0, 0],
    ]
    assert all(v.dtype == np.float32 for v in vectors if v is not None)
    assert [e is None for e in out["error"]] == [True, True, True, False, False, False, True]
    assert out["error"][4] == out["error"][3] and out["error"][3].startswith("BadRequestError")
    # The request's usage is on its first row, zeros on the others: the column sums right.
    assert list(out["embedding_prompt_tokens"]) == [3, 0, 0, None, None, None, 1]
    assert set(out) == {
        "text",
        "embedding",
        "embedding_prompt_tokens",
        "embedding_total_tokens",
        "error",
    }


def test_embed_column_returns_one_2d_array_when_every_row_succeeds(
    fault_server: FaultServer,
) -> None:
    fault_server.always(_embed)
    mapper = EmbedColumn(
        AsyncAtomaClient(base_url=fault_server.url), model="e", inputs_per_request=2
    )
    out = asyncio.run(mapper({"text": np.array(["a", "b", "c"], dtype=object)}))
    assert out["embedding"].shape == (3, 3) and out["embedding"].dtype == np.float32


@pytest.mark.parametrize(
    ("cls", "options", "message"),
    [
        (
            EmbedColumn,
            {"model": "e", "inputs_per_request": 0},
            "inputs_per_request must be at least 1",
        ),
        (EmbedColumn, {"model": "e", "dimensions": 0}, "dimensions"),
        (ChatColumn, {"model": "c", "system_prompt": 3}, "system_prompt must be a string"),
        (ChatColumn, {"model": "c", "tool_choice": "sometimes"}, "tool_choice"),
        (ChatColumn, {"max_tokens": 3}, "model is required"),
        (ChatColumn, {"model": "c", "n": 2}, "n=2, but a dataset column holds one answer"),
        (ChatColumn, {"model": "c", "tools": []}, "keeps each reply's text; tools need"),
        (CompleteColumn, {"model": "c", "n": 3}, "n=3, but a dataset column holds one answer"),
    ],
)
def test_chat_and_embed_columns_check_their_arguments_when_built(
    cls: type, options: dict[str, Any], message: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        cls(AsyncAtomaClient(base_url="http://127.0.0.1:9/v1"), **options)


def test_a_chat_row_that_is_not_messages_is_recorded_before_any_request(
    fault_server: FaultServer,
) -> None:
    client = AsyncAtomaClient(base_url=fault_server.url, max_retries=0)
    mapper = ChatColumn(client, model="c", on_error="column", usage_columns=False)
    rows = np.empty(4, dtype=object)
    rows[:] = [42, [{"role": "user"}], [{"role": "user", "content": None}], []]
    out = asyncio.run(mapper({"messages": rows}))
    assert list(out["error"]) == [
        "TypeError: a chat row must be a string or a list of {'role', 'content'} messages, "
        "got int: 42",
        "TypeError: a chat row must be a string or a list of {'role', 'content'} messages "
        "with string values, got an item {'role': 'user'}",
        "TypeError: a chat row must be a string or a list of {'role', 'content'} messages "
        "with string values, got an item {'role': 'user', 'content': None}",
        "ValueError: a chat row has no messages",
    ]
    assert fault_server.requests == []

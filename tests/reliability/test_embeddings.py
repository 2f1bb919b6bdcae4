"""The reliability suite's faults, bad input, secrets and leaks, for embeddings.

Embeddings go through the same ``_send`` as completions, so every guarantee must hold for
them too, for both clients and for both adapters' entry points: the typed error with its
status, code, message and request id; exactly ``max_retries`` retries; timeouts; an answer
that is not one vector per input is an error, never a silent mismatch; invalid calls named
before any request; no key in any error, pickle or serialization; nothing left open.
"""

from __future__ import annotations

import pickle
import traceback
from typing import Any

import pytest
from langchain_core.load import dumps

from atoma_integrations import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncAtomaClient,
    AtomaClient,
    AtomaError,
)
from atoma_integrations.langchain import AtomaEmbeddings
from atoma_integrations.llama_index import AtomaEmbedding
from tests.support.fault_server import (
    Drop,
    FaultServer,
    NoAnswer,
    Reply,
    Stream,
    Write,
    async_wait_until,
    embeddings_reply,
    error_reply,
)

from ._runs import EMBED_PARAMS, EmbedOutcome, run_embed
from .test_leaks import _assert_nothing_left_open, _client_sockets, _snapshot
from .test_secrets import ENV_KEY, KEY, _no_key
from .test_status_errors import FAULTS, RETRYABLE, STYLES, _fault_id

THREE = len(EMBED_PARAMS["input"])
MODES = ("sync", "async")  # the two clients (embeddings have no chat twin)

# --- The core client ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("fault", FAULTS, ids=_fault_id)
async def test_status_gives_the_typed_error_with_its_details(
    fault_server: FaultServer,
    fault: tuple[int, str, str, type[APIStatusError], type[APIStatusError]],
    style: str,
    mode: str,
) -> None:
    status, code, message, json_type, text_type = fault
    fault_server.always(
        error_reply(status, style=style, code=code, message=message, request_id=f"req-{status}")
    )

    outcome = await run_embed(mode, fault_server.url)

    error = outcome.error
    assert type(error) is (text_type if style == "text" else json_type), error
    assert isinstance(error, APIStatusError)
    assert error.status_code == status and error.request_id == f"req-{status}"
    assert message in str(error)
    assert [r.path for r in fault_server.requests] == ["/v1/embeddings"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", sorted(RETRYABLE))
async def test_failures_retry_exactly_max_retries_then_raise_the_last(
    fault_server: FaultServer, backoff: list[float], status: int, mode: str
) -> None:
    fault_server.enqueue(*(error_reply(status, request_id=f"req-{i}") for i in range(1, 4)))
    fault_server.always(embeddings_reply(THREE))

    outcome = await run_embed(mode, fault_server.url, max_retries=2)

    assert isinstance(outcome.error, APIStatusError)
    assert outcome.error.request_id == "req-3"
    assert len(fault_server.requests) == 3 and len(backoff) == 2


@pytest.mark.parametrize("mode", MODES)
async def test_failures_then_success_give_every_vector_with_the_same_body(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.enqueue(error_reply(502), NoAnswer(reset=True), error_reply(429))
    fault_server.always(embeddings_reply(THREE, order=[2, 0, 1]))

    outcome = await run_embed(mode, fault_server.url, max_retries=3)

    assert outcome.error is None and outcome.response is not None
    assert [v[0] for v in outcome.response.embeddings] == [0.0, 1.0, 2.0]
    assert len(fault_server.requests) == 4 and len(backoff) == 3
    assert len({r.body for r in fault_server.requests}) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_client_errors_are_never_retried(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.always(error_reply(400, code="X", message="input too long"))

    outcome = await run_embed(mode, fault_server.url, max_retries=5)

    assert isinstance(outcome.error, APIStatusError) and "input too long" in str(outcome.error)
    assert len(fault_server.requests) == 1 and backoff == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_stall_is_a_timeout_named_as_such(fault_server: FaultServer, mode: str) -> None:
    fault_server.always(Reply(200, b"{}", delay=5.0))

    outcome = await run_embed(mode, fault_server.url, timeout=0.2)

    assert type(outcome.error) is APITimeoutError
    assert "/v1/embeddings" in str(outcome.error)
    assert outcome.elapsed < 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("behaviour", "why"),
    [
        (Reply(200, b'{"data": [{"index": 0, "embedding": [0.1'), "not a valid"),
        (Reply(200, b"<html>gateway</html>", content_type="text/html"), "not a valid"),
        (embeddings_reply(2), "for 3 input"),
        (embeddings_reply(4), "for 3 input"),
        (embeddings_reply(3, order=[0, 1, 1]), "[0, 1, 1]"),
        (embeddings_reply(3, data=[{"index": 0, "embedding": "%%%"}] * 3), "base64"),
        (embeddings_reply(3, data=[{"index": 0, "embedding": [[0.1], [0.2]]}]), "pooling"),
        (Stream([Write(b'{"data": [')], content_type="application/json", chunked=False), ""),
        (Stream([Write(b'{"data": ['), Drop(reset=True)], content_type="application/json"), ""),
    ],
    ids=[
        "truncated-json",
        "html",
        "too-few",
        "too-many",
        "duplicate-index",
        "bad-base64",
        "per-token",
        "cut-at-close",
        "cut-reset",
    ],
)
async def test_a_wrong_or_cut_answer_is_an_error_never_a_silent_mismatch(
    fault_server: FaultServer, behaviour: Any, why: str, mode: str
) -> None:
    fault_server.always(behaviour)

    outcome = await run_embed(mode, fault_server.url)

    assert isinstance(outcome.error, AtomaError), repr(outcome.error)
    assert outcome.response is None
    assert why in str(outcome.error)


# --- Bad input: named before any request ---------------------------------------------------

BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("input-empty-list", {"input": []}, "input"),
    ("input-empty-string", {"input": ""}, "input"),
    ("input-list-with-empty", {"input": ["ok", ""]}, "input"),
    ("input-list-with-int", {"input": ["ok", 3]}, "input"),
    ("input-int", {"input": 3}, "input"),
    ("input-none", {"input": None}, "input"),
    ("input-bytes", {"input": b"hi"}, "input"),
    ("model-empty", {"model": ""}, "model"),
    ("dimensions-zero", {"dimensions": 0}, "dimensions"),
    ("dimensions-str", {"dimensions": "8"}, "dimensions"),
    ("encoding_format-other", {"encoding_format": "int8"}, "encoding_format"),
    ("user-int", {"user": 7}, "user"),
    ("timeout-negative", {"timeout": -1}, "timeout"),
    ("extra_body-str", {"extra_body": "x=1"}, "extra_body"),
    ("stream-in-extra_body", {"extra_body": {"stream": True}}, "stream"),
    ("unknown-parameter", {"dimension": 3}, "dimension"),
]


@pytest.mark.parametrize(
    ("overrides", "field"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
async def test_invalid_call_fails_naming_the_field_and_sends_nothing(
    fault_server: FaultServer, overrides: dict[str, Any], field: str
) -> None:
    fault_server.always(embeddings_reply(THREE))
    params = {**EMBED_PARAMS, **overrides}
    with AtomaClient(base_url=fault_server.url, max_retries=0) as client:
        with pytest.raises((ValueError, TypeError)) as sync_error:
            client.embeddings.create(**params)
    async with AsyncAtomaClient(base_url=fault_server.url, max_retries=0) as aclient:
        with pytest.raises((ValueError, TypeError)) as async_error:
            await aclient.embeddings.create(**params)
    assert field in str(sync_error.value) and field in str(async_error.value)
    assert fault_server.requests == []


# --- The adapters ----------------------------------------------------------------------------

ENTRY_POINTS = [
    "langchain.embed_documents",
    "langchain.aembed_documents",
    "langchain.embed_query",
    "langchain.aembed_query",
    "llama_index.get_text_embedding_batch",
    "llama_index.aget_text_embedding_batch",
    "llama_index.get_query_embedding",
    "llama_index.aget_query_embedding",
]


def _adapter(entry: str, url: str, **settings: Any) -> Any:
    if entry.startswith("langchain"):
        return AtomaEmbeddings(model="fault-embed", base_url=url, **settings)
    return AtomaEmbedding(model_name="fault-embed", base_url=url, **settings)


async def run_adapter(entry: str, url: str, **settings: Any) -> EmbedOutcome:
    """One call through an adapter entry point; the error the user got, if any."""
    method = getattr(_adapter(entry, url, **settings), entry.split(".")[1])
    argument: Any = "one" if "query" in entry else list(EMBED_PARAMS["input"])
    outcome = EmbedOutcome()
    try:
        result = method(argument)
        if entry.split(".")[1].startswith("a"):
            await result
    except Exception as exc:
        outcome.error = exc
    return outcome


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("fault", FAULTS[:6], ids=_fault_id)
async def test_adapter_raises_the_typed_error_with_its_details(
    fault_server: FaultServer,
    fault: tuple[int, str, str, type[APIStatusError], type[APIStatusError]],
    entry: str,
) -> None:
    status, code, message, expected, _ = fault
    fault_server.always(error_reply(status, code=code, message=message, request_id="req-em"))

    outcome = await run_adapter(entry, fault_server.url, max_retries=0)

    assert isinstance(outcome.error, expected), repr(outcome.error)
    assert (outcome.error.status_code, outcome.error.request_id) == (status, "req-em")
    assert message in str(outcome.error)
    assert len(fault_server.requests) == 1


@pytest.mark.parametrize("entry", ENTRY_POINTS)
async def test_adapter_retries_exactly_max_retries_in_total(
    fault_server: FaultServer, backoff: list[float], entry: str
) -> None:
    fault_server.always(error_reply(503))

    outcome = await run_adapter(entry, fault_server.url, max_retries=2)

    assert isinstance(outcome.error, APIStatusError)
    assert len(fault_server.requests) == 3 and len(backoff) == 2


# --- Secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        (error_reply(401, code="AUTH_ERROR", message="Authentication failed"), APIStatusError),
        (NoAnswer(), APIConnectionError),
        (Reply(200, b"{}", delay=2.0), APITimeoutError),
        (embeddings_reply(1), AtomaError),
    ],
    ids=["401", "no-answer", "timeout", "wrong-count"],
)
def test_embedding_errors_and_their_pickles_never_show_the_key(
    fault_server: FaultServer, behaviour: Any, expected: type[AtomaError]
) -> None:
    fault_server.always(behaviour)
    with AtomaClient(KEY, base_url=fault_server.url, max_retries=0, timeout=0.2) as client:
        with pytest.raises(expected) as info:
            client.embeddings.create(**EMBED_PARAMS)
    error = info.value
    _no_key(str(error))
    _no_key(repr(error))
    _no_key("".join(traceback.format_exception(error)))
    _no_key(pickle.dumps(error))


def test_adapters_never_hold_the_key_in_text_serialization_or_an_env_pickle(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    langchain = AtomaEmbeddings(model="m", base_url=fault_server.url, api_key=KEY)
    llama = AtomaEmbedding(model_name="m", base_url=fault_server.url, api_key=KEY)
    for text in (repr(langchain), str(langchain), dumps(langchain)):
        _no_key(text)
    for text in (repr(llama), str(llama), llama.to_json(), str(llama.to_payload())):
        _no_key(text)

    fault_server.always(embeddings_reply(1))
    monkeypatch.setenv("ATOMA_BASE_URL", fault_server.url)
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    for adapter in (AtomaEmbeddings(model="m"), AtomaEmbedding(model_name="m")):
        data = pickle.dumps(adapter)
        _no_key(data)
        copy = pickle.loads(data)
        if isinstance(copy, AtomaEmbeddings):
            copy.embed_query("x")
        else:
            copy.get_query_embedding("x")
        assert fault_server.requests[-1].headers["authorization"] == f"Bearer {ENV_KEY}"


# --- Leaks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_many_failing_and_succeeding_calls_leave_nothing_open(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(embeddings_reply(THREE))
    fault_server.enqueue(
        *[
            Stream([Write(b'{"data": ['), Drop(reset=True)], content_type="application/json"),
            embeddings_reply(THREE),
            error_reply(500),
            NoAnswer(reset=True),
        ]
        * 25
    )
    fds_before, threads_before = _snapshot()
    outcomes = [await run_embed(mode, fault_server.url) for _ in range(100)]
    errors = sum(outcome.error is not None for outcome in outcomes)
    assert errors == 75
    port = fault_server.port
    assert await async_wait_until(lambda: fault_server.active_connections == 0, 5)
    assert await async_wait_until(lambda: _client_sockets(port) == 0, 5)
    # The fault server runs in this process: its side of the last connection may still be
    # closing on its own loop for a moment after it stopped counting it as active.
    await async_wait_until(lambda: _snapshot()[0] <= fds_before, 2)
    _assert_nothing_left_open(fds_before, threads_before)

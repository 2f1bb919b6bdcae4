"""AtomaLLM on a mocked transport: what a LangChain user sees, point by point."""

from __future__ import annotations

import asyncio
import json
import pickle
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any
from uuid import UUID

import httpx
import pytest
import respx
from langchain_core import exceptions as langchain_exceptions
from langchain_core.caches import InMemoryCache
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.globals import set_llm_cache
from langchain_core.load import dumpd, dumps, load, loads
from langchain_core.outputs import GenerationChunk, LLMResult
from pydantic import ValidationError

import atoma_integrations
from atoma_integrations.langchain import AtomaLLM
from tests.support.mock_server import (
    MockServer,
    Pieces,
    chunk,
    completion,
    json_reply,
    sse,
    stream_reply,
)

# langchain-core >= 1.6 has the whole Model*Error family; the adapter maps onto it only
# then, and raises the core's errors as they are on older versions.
_FAMILY = all(
    hasattr(langchain_exceptions, name)
    for name in (
        "ContextOverflowError",
        "ModelAPIError",
        "ModelAuthenticationError",
        "ModelConnectionError",
        "ModelError",
        "ModelInvalidRequestError",
        "ModelNotFoundError",
        "ModelPermissionDeniedError",
        "ModelRateLimitError",
        "ModelTimeoutError",
    )
)


def _langchain_error(name: str, core: str) -> type:
    """The LangChain type an error must also be: ``name``, or ``core`` without the family."""
    found: type = (
        getattr(langchain_exceptions, name) if _FAMILY else getattr(atoma_integrations, core)
    )
    return found


ContextOverflowError = _langchain_error("ContextOverflowError", "ContextLengthExceededError")
ModelAPIError = _langchain_error("ModelAPIError", "AtomaError")
ModelAuthenticationError = _langchain_error("ModelAuthenticationError", "AuthenticationError")
ModelConnectionError = _langchain_error("ModelConnectionError", "APIConnectionError")
ModelInvalidRequestError = _langchain_error("ModelInvalidRequestError", "BadRequestError")
ModelRateLimitError = _langchain_error("ModelRateLimitError", "RateLimitError")
ModelTimeoutError = _langchain_error("ModelTimeoutError", "APITimeoutError")

BASE_URL = "http://testserver/v1"
KEY = "sk-atoma-secret-123"
USAGE = {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A scripted completions server behind respx (the adapter's clients are shared).

    ``using="httpx"`` mocks above the transport, so the adapters' clients are answered
    whichever pool they run on (httpcore's default mocker would not see aiohttp's).
    """
    mock = MockServer()
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(url__regex=r"^http://[a-z]+/v1/completions$").mock(side_effect=mock.handle)
        yield mock


def make_llm(**kwargs: Any) -> AtomaLLM:
    kwargs.setdefault("model", "m")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    return AtomaLLM(**kwargs)


def atoma_stream(*texts: str, finish: str = "stop", usage: dict[str, int] | None = USAGE) -> bytes:
    """A stream as Atoma sends it: keep-alives, text, finish_reason, usage chunk, no [DONE]."""
    events: list[dict[str, Any] | str] = [chunk(t) for t in texts]
    events.append(chunk("", finish))
    if usage is not None:
        events.append({"id": "cmpl-1", "choices": [], "usage": usage})
    return b": keep-alive\n\n" + sse(*events)


class Recorder(BaseCallbackHandler):
    """Records callback events in order, into a log the test can share."""

    def __init__(self, log: list[tuple[str, Any]] | None = None) -> None:
        self.log: list[tuple[str, Any]] = log if log is not None else []
        self.chunks: list[GenerationChunk | None] = []
        self.errors: list[BaseException] = []
        self.ends: list[LLMResult] = []

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        self.log.append(("token", token))
        self.chunks.append(chunk)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.errors.append(error)

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.ends.append(response)


class AsyncRecorder(AsyncCallbackHandler):
    """The async twin of Recorder."""

    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log

    async def on_llm_new_token(
        self, token: str, *, run_id: UUID, chunk: Any = None, **kwargs: Any
    ) -> None:
        self.log.append(("token", token))


# --- import, construction, validation -------------------------------------------------------


def test_import_pulls_in_no_llama_index() -> None:
    code = (
        "import sys, atoma_integrations.langchain; "
        "print([m for m in sys.modules if m.startswith('llama_index')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_defaults() -> None:
    llm = make_llm()
    assert llm._llm_type == "atoma"
    assert (llm.max_tokens, llm.n, llm.streaming, llm.max_concurrency) == (256, 1, False, 8)
    assert AtomaLLM.model_fields["max_retries"].default == 2
    assert llm.api_key is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 2.5),
        ("top_p", 1.5),
        ("max_tokens", 0),
        ("n", 0),
        ("logprobs", 21),
        ("presence_penalty", -3.0),
        ("frequency_penalty", 2.5),
        ("stop", ["a", "b", "c", "d", "e"]),
        ("logit_bias", {"not-a-token": 1.0}),
        ("logit_bias", {"5": 101.0}),
    ],
)
def test_out_of_range_settings_fail_at_construction_naming_the_field(
    field: str, value: Any
) -> None:
    with pytest.raises(ValidationError, match=field):
        make_llm(**{field: value})


def test_other_construction_errors_are_clear() -> None:
    with pytest.raises(ValidationError, match="ATOMA_API_KEY"):
        AtomaLLM(model="m")  # no key and the Atoma cloud
    with pytest.raises(ValidationError, match="model_kwargs must not set temperature"):
        make_llm(model_kwargs={"temperature": 1.0})
    with pytest.raises(ValidationError, match="n=1"):
        make_llm(streaming=True, n=2)
    with pytest.raises(ValidationError, match="max_concurrency"):
        make_llm(max_concurrency=0)
    with pytest.raises(ValidationError, match="base_url"):
        make_llm(base_url="ftp://nowhere")
    with pytest.raises(ValidationError, match="timeout"):
        make_llm(timeout=-1.0)
    with pytest.raises(ValidationError, match="model"):
        make_llm(model="")


def test_stop_string_and_integer_logit_bias_keys_are_normalized() -> None:
    llm = make_llm(stop="\n", logit_bias={50256: -100})
    assert llm.stop == ["\n"]
    assert llm.logit_bias == {"50256": -100.0}


# --- the request ---------------------------------------------------------------------------


def test_invoke_sends_one_request_with_the_settings(server: MockServer) -> None:
    server.replies = [json_reply(200, completion("Hi"))]
    llm = make_llm(
        temperature=0.2,
        seed=7,
        logit_bias={1: 2},
        user="u1",
        model_kwargs={"top_k": 5},
        default_headers={"X-Trace": "t"},
    )
    assert llm.invoke("Say hi") == "Hi"
    (body,) = server.bodies
    assert body == {
        "model": "m",
        "prompt": "Say hi",
        "max_tokens": 256,
        "temperature": 0.2,
        "n": 1,
        "seed": 7,
        "logit_bias": {"1": 2.0},
        "user": "u1",
        "top_k": 5,
    }
    assert server.requests[0].headers["X-Trace"] == "t"
    assert "authorization" not in server.requests[0].headers  # keyless local server


def test_call_time_kwargs_override_fields(server: MockServer) -> None:
    server.replies = [json_reply(200, completion())]
    make_llm(temperature=0.2).invoke("p", temperature=0.9, max_tokens=3, top_k=2)
    (body,) = server.bodies
    assert (body["temperature"], body["max_tokens"], body["top_k"]) == (0.9, 3, 2)


def test_stop_at_call_time_replaces_the_default(server: MockServer) -> None:
    server.replies = [json_reply(200, completion())]
    llm = make_llm(stop=["END"])
    llm.invoke("p")
    llm.invoke("p", stop=["\n\n"])
    assert [b["stop"] for b in server.bodies] == [["END"], ["\n\n"]]


def test_explicit_key_is_sent_env_key_only_where_the_env_points(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.replies = [json_reply(200, completion())]
    make_llm(api_key=KEY).invoke("p")
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env-key")
    make_llm().invoke("p")  # base_url is not ATOMA_BASE_URL: the env key stays home
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    AtomaLLM(model="m", max_retries=0).invoke("p")  # now the environment names this server
    monkeypatch.delenv("ATOMA_API_KEY")
    monkeypatch.setenv("ATOMASDK_BEARER_AUTH", "sk-sdk-key")  # the official SDKs' variable
    AtomaLLM(model="m", max_retries=0).invoke("p")
    monkeypatch.delenv("ATOMASDK_BEARER_AUTH")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-key")  # never read, never sent
    AtomaLLM(model="m", max_retries=0).invoke("p")
    auth = [r.headers.get("authorization") for r in server.requests]
    assert auth == [f"Bearer {KEY}", None, "Bearer sk-env-key", "Bearer sk-sdk-key", None]


# --- results ---------------------------------------------------------------------------------


def test_generate_sums_usage_and_fills_generation_info(server: MockServer) -> None:
    logprobs = {"tokens": ["Hi"], "token_logprobs": [-0.5], "top_logprobs": None}
    server.replies = [
        json_reply(
            200,
            completion("A", "stop", response_hash="h1", signature="s1")
            | {
                "choices": [
                    {"index": 0, "text": "A", "finish_reason": "stop", "logprobs": logprobs}
                ]
            },
        ),
        json_reply(
            200,
            completion("B", "length")
            | {"usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}},
        ),
    ]
    result = make_llm(max_concurrency=1, logprobs=1).generate(["p1", "p2"])
    assert [[g.text for g in gens] for gens in result.generations] == [["A"], ["B"]]
    assert result.llm_output == {
        "token_usage": {"prompt_tokens": 13, "completion_tokens": 22, "total_tokens": 35},
        "model_name": "m",
    }
    first, second = result.generations[0][0], result.generations[1][0]
    assert first.generation_info is not None and second.generation_info is not None
    assert first.generation_info["finish_reason"] == "stop"
    assert first.generation_info["logprobs"]["tokens"] == ["Hi"]
    assert (first.generation_info["response_hash"], first.generation_info["signature"]) == (
        "h1",
        "s1",
    )
    assert second.generation_info == {"finish_reason": "length"}


async def test_no_prompts_means_no_requests(server: MockServer) -> None:
    llm = make_llm()
    assert llm._generate([]).generations == []
    assert (await llm._agenerate([])).generations == []
    assert server.requests == []


def test_n_gives_n_generations_per_prompt_in_index_order(server: MockServer) -> None:
    body = completion() | {
        "choices": [
            {"index": 1, "text": "second", "finish_reason": "stop"},
            {"index": 0, "text": "first", "finish_reason": "length"},
        ]
    }
    server.replies = [json_reply(200, body)]
    result = make_llm(n=2).generate(["p1", "p2"])
    assert [[g.text for g in gens] for gens in result.generations] == [
        ["first", "second"],
        ["first", "second"],
    ]
    assert [b["n"] for b in server.bodies] == [2, 2]
    assert [b["prompt"] for b in server.bodies] in (["p1", "p2"], ["p2", "p1"])


# --- streaming -------------------------------------------------------------------------------


def test_stream_yields_text_and_puts_usage_and_finish_on_the_final_chunk_only(
    server: MockServer,
) -> None:
    server.replies = [stream_reply([atoma_stream("Hel", "lo")])]
    llm = make_llm()
    chunks = list(llm._stream("p"))
    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    assert [c.generation_info for c in chunks[:-1]] == [None, None]
    assert chunks[-1].generation_info == {
        "finish_reason": "stop",
        "model_name": "m",
        "token_usage": USAGE,
    }
    merged = chunks[0] + chunks[1] + chunks[2]
    assert merged.generation_info == chunks[-1].generation_info  # nothing summed twice
    assert server.bodies[0]["stream"] is True


def test_usage_repeated_on_every_chunk_is_reported_once(server: MockServer) -> None:
    events = [
        chunk("a", usage={"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}),
        chunk("b", "length", usage=USAGE),
    ]
    server.replies = [lambda request: stream_reply([sse(*events)])]
    chunks = list(make_llm()._stream("p"))
    final = chunks[-1].generation_info
    assert final is not None and final["token_usage"] == USAGE
    assert all(c.generation_info is None for c in chunks[:-1])
    result = make_llm(streaming=True).generate(["p"])
    assert result.llm_output is not None and result.llm_output["token_usage"] == USAGE


def test_stream_without_any_text_still_yields_one_chunk(server: MockServer) -> None:
    server.replies = [stream_reply([sse(chunk("", "length"), done=True)])]
    assert list(make_llm().stream("p")) == [""]


def test_stream_logprobs_ride_on_each_chunk_and_concatenate(server: MockServer) -> None:
    def lp(token: str) -> dict[str, Any]:
        return {"tokens": [token], "token_logprobs": [-1.0], "top_logprobs": [{token: -1.0}]}

    events = [
        chunk("a") | {"choices": [{"index": 0, "text": "a", "logprobs": lp("a")}]},
        chunk("b") | {"choices": [{"index": 0, "text": "b", "logprobs": lp("b")}]},
        chunk("", "stop"),
    ]
    server.replies = [stream_reply([sse(*events, done=True)])]
    chunks = list(make_llm(logprobs=1)._stream("p"))
    merged = chunks[0]
    for c in chunks[1:]:
        merged += c
    assert merged.text == "ab"
    assert merged.generation_info is not None
    assert merged.generation_info["logprobs"]["tokens"] == ["a", "b"]
    assert merged.generation_info["finish_reason"] == "stop"


def test_stream_rejects_n_above_one(server: MockServer) -> None:
    with pytest.raises(ValueError, match="n=2, but a stream holds one answer per request"):
        list(make_llm(n=2).stream("p"))
    assert server.requests == []


def test_token_callback_fires_before_each_chunk_is_yielded(server: MockServer) -> None:
    server.replies = [stream_reply([atoma_stream("a", "b", "c")])]
    log: list[tuple[str, Any]] = []
    recorder = Recorder(log)
    for text in make_llm().stream("p", config={"callbacks": [recorder]}):
        log.append(("yield", text))
    assert log == [
        ("token", "a"),
        ("yield", "a"),
        ("token", "b"),
        ("yield", "b"),
        ("token", "c"),
        ("yield", "c"),
        ("token", ""),
        ("yield", ""),
    ]
    assert all(isinstance(c, GenerationChunk) for c in recorder.chunks)


async def test_async_token_callback_fires_before_each_chunk_is_yielded(
    server: MockServer,
) -> None:
    server.replies = [stream_reply([atoma_stream("a", "b")])]
    log: list[tuple[str, Any]] = []
    async for text in make_llm().astream("p", config={"callbacks": [AsyncRecorder(log)]}):
        log.append(("yield", text))
    assert log == [
        ("token", "a"),
        ("yield", "a"),
        ("token", "b"),
        ("yield", "b"),
        ("token", ""),
        ("yield", ""),
    ]


def test_streaming_true_invoke_streams_to_callbacks_and_returns_everything(
    server: MockServer,
) -> None:
    server.replies = [stream_reply([atoma_stream("Hel", "lo")])]
    recorder = Recorder()
    llm = make_llm(streaming=True)
    result = llm.generate(["p"], callbacks=[recorder])
    assert server.bodies[0]["stream"] is True
    assert "".join(token for _, token in recorder.log) == "Hello"
    assert result.generations[0][0].text == "Hello"
    assert result.generations[0][0].generation_info == {"finish_reason": "stop"}
    assert result.llm_output == {"token_usage": USAGE, "model_name": "m"}
    assert recorder.ends[0].llm_output == result.llm_output


async def test_streaming_true_ainvoke_streams_to_callbacks(server: MockServer) -> None:
    server.replies = [stream_reply([atoma_stream("Hel", "lo")])]
    log: list[tuple[str, Any]] = []
    llm = make_llm(streaming=True)
    assert await llm.ainvoke("p", config={"callbacks": [AsyncRecorder(log)]}) == "Hello"
    assert [token for _, token in log] == ["Hel", "lo", ""]


def test_streaming_true_multi_prompt_reports_tokens_of_the_first_run_only(
    server: MockServer,
) -> None:
    server.replies = [
        stream_reply([atoma_stream("one")]),
        stream_reply([atoma_stream("two")]),
    ]
    recorder = Recorder()
    result = make_llm(streaming=True, max_concurrency=1).generate(
        ["p1", "p2"], callbacks=[recorder]
    )
    assert [g[0].text for g in result.generations] == ["one", "two"]
    assert [t for _, t in recorder.log] == ["one", ""]
    assert result.llm_output is not None
    assert result.llm_output["token_usage"]["total_tokens"] == 2 * USAGE["total_tokens"]


def test_breaking_out_of_a_stream_closes_the_connection(server: MockServer) -> None:
    body = Pieces([sse(chunk("a")), sse(chunk("b")), sse(chunk("c", "stop"))])
    server.replies = [httpx.Response(200, stream=body)]
    recorder = Recorder()
    for text in make_llm().stream("p", config={"callbacks": [recorder]}):
        assert text == "a"
        break
    assert body.closed
    assert len(recorder.errors) == 1  # LangChain reports the abandoned run


async def test_breaking_out_of_an_async_stream_closes_the_connection(
    server: MockServer,
) -> None:
    body = Pieces([sse(chunk("a")), sse(chunk("b")), sse(chunk("c", "stop"))])
    server.replies = [httpx.Response(200, stream=body)]
    async with aclosing(make_llm().astream("p")) as stream:
        async for text in stream:
            assert text == "a"
            break
    assert body.closed


class StallingBody(Pieces):
    """Sends its pieces, then waits forever (a slow generation) until closed."""

    def __init__(self, pieces: list[bytes]) -> None:
        super().__init__(pieces)
        self.stalled = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        self.stalled.set()
        await asyncio.Event().wait()


async def test_cancelling_a_streaming_task_closes_the_connection(server: MockServer) -> None:
    body = StallingBody([sse(chunk("a"))])
    server.replies = [httpx.Response(200, stream=body)]
    received: list[str] = []

    async def consume() -> None:
        async for text in make_llm().astream("p"):
            received.append(text)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(body.stalled.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert received == ["a"]
    assert body.closed


# --- errors ----------------------------------------------------------------------------------


def err(code: str | None, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "core_cls", "langchain_cls"),
    [
        (429, err("RATE", "slow down"), "RateLimitError", ModelRateLimitError),
        (401, err("AUTH_ERROR", "no"), "AuthenticationError", ModelAuthenticationError),
        (400, err("REQUEST_ERROR", "bad"), "BadRequestError", ModelInvalidRequestError),
        (400, err("context_length_exceeded", "prompt too long"),
         "ContextLengthExceededError", ContextOverflowError),
        (500, err(None, "boom"), "InternalServerError", ModelAPIError),
    ],
)  # fmt: skip
def test_status_errors_are_core_types_and_langchain_types(
    server: MockServer, status: int, body: Any, core_cls: str, langchain_cls: type
) -> None:
    server.replies = [json_reply(status, body, headers={"x-request-id": "req-9"})]
    recorder = Recorder()
    with pytest.raises(getattr(atoma_integrations, core_cls)) as info:
        make_llm(api_key=KEY).invoke("p", config={"callbacks": [recorder]})
    error = info.value
    assert isinstance(error, langchain_cls)
    assert isinstance(error, atoma_integrations.APIStatusError)
    assert (error.status_code, error.request_id) == (status, "req-9")
    assert error.response is not None
    assert body["error"]["message"] in str(error)
    assert KEY not in str(error) and KEY not in repr(error)
    assert recorder.errors == [error]


def test_connection_errors_are_typed(server: MockServer) -> None:
    server.replies = [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")]
    with pytest.raises(atoma_integrations.APIConnectionError) as info:
        make_llm().invoke("p")
    assert isinstance(info.value, ModelConnectionError)
    assert info.value.request is not None and "refused" in str(info.value)
    with pytest.raises(atoma_integrations.APITimeoutError) as timeout:
        make_llm().invoke("p")
    assert isinstance(timeout.value, ModelTimeoutError)


def test_a_connection_dropped_mid_stream_keeps_its_cause(server: MockServer) -> None:
    server.replies = [stream_reply([sse(chunk("par"))], fail_with=httpx.ReadError("reset"))]
    with pytest.raises(atoma_integrations.StreamInterruptedError) as info:
        list(make_llm().stream("p"))
    assert isinstance(info.value, ModelAPIError)
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert info.value.text == "par"


def test_a_stream_cut_short_raises_with_the_text_so_far(server: MockServer) -> None:
    server.replies = [stream_reply([sse(chunk("par"), chunk("tial"))])]  # no finish_reason
    seen: list[str] = []
    with pytest.raises(atoma_integrations.StreamInterruptedError) as info:
        for text in make_llm().stream("p"):
            seen.append(text)
    assert seen == ["par", "tial"]
    assert info.value.text == "partial"
    assert isinstance(info.value, ModelAPIError)


async def test_async_errors_are_typed_too(server: MockServer) -> None:
    server.replies = [json_reply(429, {"error": {"message": "slow down"}})]
    with pytest.raises(atoma_integrations.RateLimitError) as info:
        await make_llm().ainvoke("p")
    assert isinstance(info.value, ModelRateLimitError)
    with pytest.raises(atoma_integrations.RateLimitError):
        async for _ in make_llm().astream("p"):
            pass


def test_typed_errors_survive_pickling_as_from_a_process_pool_worker(
    server: MockServer,
) -> None:
    server.replies = [json_reply(429, {"error": {"message": "slow down"}}, {"x-request-id": "r1"})]
    with pytest.raises(atoma_integrations.RateLimitError) as info:
        make_llm().invoke("p")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is type(info.value) and isinstance(copy, ModelRateLimitError)
    assert (copy.status_code, copy.request_id, str(copy)) == (429, "r1", str(info.value))


def test_one_failing_prompt_fails_the_generate_call(server: MockServer) -> None:
    server.replies = [json_reply(200, completion()), json_reply(404, {"detail": "Not Found"})]
    with pytest.raises(atoma_integrations.NotFoundError):
        make_llm(max_concurrency=1).generate(["p1", "p2"])
    results = make_llm(max_concurrency=1).batch(["p1"], return_exceptions=True)
    assert isinstance(results[0], atoma_integrations.NotFoundError)


# --- identity, tracing, caching ---------------------------------------------------------------


def test_identifying_params_hold_every_generation_setting_and_no_key() -> None:
    llm = make_llm(
        api_key=KEY,
        temperature=0.5,
        top_p=0.9,
        stop=["x"],
        seed=1,
        logprobs=2,
        logit_bias={"3": 1.0},
        presence_penalty=0.1,
        frequency_penalty=0.2,
        suffix="s",
        echo=True,
        best_of=2,
        user="u",
        model_kwargs={"top_k": 3},
    )
    params = llm._identifying_params
    for name in atoma_integrations._adapters.GENERATION_PARAMS:
        assert name in params, name
    assert params["model"] == "m" and params["model_kwargs"] == {"top_k": 3}
    assert KEY not in json.dumps(params)
    assert KEY not in str(llm) and KEY not in repr(llm)


def test_ls_params_for_tracing() -> None:
    llm = make_llm(temperature=0.3, max_tokens=50, stop=["END"])
    assert llm._get_ls_params() == {
        "ls_provider": "atoma",
        "ls_model_type": "llm",
        "ls_model_name": "m",
        "ls_temperature": 0.3,
        "ls_max_tokens": 50,
        "ls_stop": ["END"],
    }
    override = llm._get_ls_params(stop=["\n"], model="other")
    assert (override["ls_stop"], override["ls_model_name"]) == (["\n"], "other")
    if hasattr(AtomaLLM, "_add_version"):  # langchain-core records versions for tracing
        assert llm.metadata is not None
        assert llm.metadata["lc_versions"]["atoma-integrations"] == atoma_integrations.__version__


def test_cache_serves_a_repeated_prompt_and_separates_settings(server: MockServer) -> None:
    server.replies = [json_reply(200, completion("cached"))]
    set_llm_cache(InMemoryCache())
    try:
        llm = make_llm(temperature=0.0)
        assert llm.invoke("p") == "cached"
        assert llm.invoke("p") == "cached"
        assert len(server.requests) == 1
        make_llm(temperature=0.5).invoke("p")
        assert len(server.requests) == 2
    finally:
        set_llm_cache(None)


def test_same_object_works_across_event_loops(server: MockServer) -> None:
    server.replies = [json_reply(200, completion("ok"))]
    llm = make_llm()
    assert asyncio.run(llm.ainvoke("p")) == "ok"
    assert asyncio.run(llm.ainvoke("p")) == "ok"


# --- serialization and pickling --------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_dumps_never_contains_the_key_and_load_round_trips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert AtomaLLM.is_lc_serializable()
    llm = make_llm(api_key=KEY, temperature=0.1, stop=["x"], model_kwargs={"top_k": 2})
    assert llm.lc_secrets == {"api_key": "ATOMA_API_KEY"}
    text = dumps(llm)
    assert KEY not in text
    assert dumpd(llm)["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["ATOMA_API_KEY"]}

    monkeypatch.setenv("ATOMA_API_KEY", KEY)
    loaded = loads(
        text,
        valid_namespaces=["atoma_integrations"],
        allowed_objects=[AtomaLLM],
        secrets_from_env=True,
    )
    assert isinstance(loaded, AtomaLLM)
    assert loaded.api_key is not None and loaded.api_key.get_secret_value() == KEY
    assert loaded._identifying_params == llm._identifying_params


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_without_a_key_dumpd_has_no_secret_and_load_uses_the_environment() -> None:
    llm = make_llm(temperature=0.1)
    data = dumpd(llm)
    assert "api_key" not in data["kwargs"]
    loaded = load(
        data,
        valid_namespaces=["atoma_integrations"],
        allowed_objects=[AtomaLLM],
        secrets_from_env=True,
    )
    assert loaded._identifying_params == llm._identifying_params and loaded.api_key is None


def test_pickle_with_an_explicit_key_gives_a_working_llm(server: MockServer) -> None:
    server.replies = [json_reply(200, completion("from the copy"))]
    copy = pickle.loads(pickle.dumps(make_llm(api_key=KEY, temperature=0.0)))
    assert copy.invoke("p") == "from the copy"
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert copy.temperature == 0.0


def test_a_changed_atoma_base_url_reaches_new_llms(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.replies = [json_reply(200, completion())]
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    AtomaLLM(model="m", max_retries=0).invoke("p")
    monkeypatch.setenv("ATOMA_BASE_URL", "http://otherserver/v1")
    AtomaLLM(model="m", max_retries=0).invoke("p")
    assert [r.url.host for r in server.requests] == ["testserver", "otherserver"]


def test_pickle_never_holds_an_environment_key(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.replies = [json_reply(200, completion())]
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env-old")
    llm = AtomaLLM(model="m", max_retries=0)
    llm.invoke("p")  # the shared client now knows the key; the LLM object must not
    data = pickle.dumps(llm)
    assert b"sk-env-old" not in data
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env-new")
    pickle.loads(data).invoke("p")
    assert server.requests[-1].headers["authorization"] == "Bearer sk-env-new"

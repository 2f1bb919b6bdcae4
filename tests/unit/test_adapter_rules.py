"""Each cross-adapter rule says the same thing, as the same type, from every entry point.

The rules live once, in ``atoma_integrations._rules``: one answer per stream (or dataset
column), the usage asked for in every stream, and no validated field set through an
adapter's extra body. Here every entry point of the LangChain, LlamaIndex and Ray adapters
is driven into each rule on a mocked transport, and what it raises (or sends) compared.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import respx
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage
from pydantic import ValidationError

from atoma_integrations import AsyncAtomaClient
from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat, AtomaEmbedding
from atoma_integrations.ray import ChatColumn, CompleteColumn
from tests.support.mock_server import MockServer, chat_chunk, chunk, sse, stream_reply

BASE_URL = "http://testserver/v1"
USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
HI = [ChatMessage(role="user", content="hi")]


@pytest.fixture
def server() -> Iterator[MockServer]:
    """Both generation endpoints, answering as vLLM does: usage only when asked for."""
    mock = MockServer([_vllm_like])
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(f"{BASE_URL}/completions").mock(side_effect=mock.handle)
        router.post(f"{BASE_URL}/chat/completions").mock(side_effect=mock.handle)
        yield mock


def _vllm_like(request: httpx.Request) -> httpx.Response:
    """A stream that ends with a usage chunk only if the body has stream_options.include_usage."""
    body = json.loads(request.content)
    chat = request.url.path.endswith("/chat/completions")
    if chat:
        events: list[dict[str, Any] | str] = [chat_chunk("Hi", role="assistant")]
        events.append(chat_chunk(None, "stop"))
    else:
        events = [chunk("Hi"), chunk("", "stop")]
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({"id": "x", "choices": [], "usage": USAGE})
    return stream_reply([sse(*events, done=True)])


def _kwargs(**kwargs: Any) -> dict[str, Any]:
    return {"model": "m", "base_url": BASE_URL, "max_retries": 0, **kwargs}


def _llama(cls: Any, **kwargs: Any) -> Any:
    return cls(**_kwargs(context_window=2048, **kwargs))


def _drain(result: Any) -> list[Any]:
    """Everything an entry point gives: a list, the items of a (sync or async) iterator, or
    what an awaitable gives."""
    if hasattr(result, "__aiter__"):

        async def collect() -> list[Any]:
            return [item async for item in result]

        return asyncio.run(collect())
    if inspect.iscoroutine(result):
        return _drain(asyncio.run(_awaited(result)))
    return list(result)


async def _awaited(coroutine: Any) -> Any:
    """An async generator a coroutine returns, drained on the same loop."""
    value = await coroutine
    if hasattr(value, "__aiter__"):
        return [item async for item in value]
    return value


# -- one answer per stream ---------------------------------------------------------------------

ONE_ANSWER = "{name}={value}, but {where} holds one answer per request: use {name}=1"

STREAM_CALLS: dict[str, Callable[[], Any]] = {
    "AtomaLLM.stream, n field": lambda: AtomaLLM(**_kwargs(n=2)).stream("p"),
    "AtomaLLM.stream, n per call": lambda: AtomaLLM(**_kwargs()).stream("p", n=2),
    "AtomaLLM.astream": lambda: AtomaLLM(**_kwargs(n=2)).astream("p"),
    "AtomaLLM streaming invoke": lambda: [AtomaLLM(**_kwargs(streaming=True)).invoke("p", n=2)],
    "ChatAtoma.stream": lambda: ChatAtoma(**_kwargs(n=2)).stream("hi"),
    "ChatAtoma.astream, n per call": lambda: ChatAtoma(**_kwargs()).astream("hi", n=2),
    "ChatAtoma streaming invoke": lambda: [
        ChatAtoma(**_kwargs(streaming=True)).invoke([HumanMessage("hi")], n=2)
    ],
    "Atoma.stream_complete": lambda: _llama(Atoma, n=2).stream_complete("p"),
    "Atoma.astream_complete": lambda: _llama(Atoma, n=2).astream_complete("p"),
    "Atoma.stream_chat": lambda: _llama(Atoma, n=2).stream_chat(HI),
    "Atoma.astream_chat, n per call": lambda: _llama(Atoma).astream_chat(HI, n=2),
    "AtomaChat.stream_chat": lambda: _llama(AtomaChat, n=2).stream_chat(HI),
    "AtomaChat.astream_chat": lambda: _llama(AtomaChat, n=2).astream_chat(HI),
}


@pytest.mark.parametrize("entry", STREAM_CALLS)
def test_every_stream_refuses_n_above_one_alike(server: MockServer, entry: str) -> None:
    with pytest.raises(ValueError) as info:
        _drain(STREAM_CALLS[entry]())
    assert type(info.value) is ValueError
    assert str(info.value) == ONE_ANSWER.format(name="n", value=2, where="a stream")
    assert server.requests == []


@pytest.mark.parametrize(
    "stream",
    [
        lambda: AtomaLLM(**_kwargs(best_of=3)).stream("p"),
        lambda: _llama(Atoma, best_of=3).stream_complete("p"),
    ],
    ids=["AtomaLLM", "Atoma"],
)
def test_best_of_above_one_cannot_stream_either(
    server: MockServer, stream: Callable[[], Any]
) -> None:
    with pytest.raises(ValueError) as info:
        _drain(stream())
    assert str(info.value) == ONE_ANSWER.format(name="best_of", value=3, where="a stream")
    assert server.requests == []


@pytest.mark.parametrize("adapter", [AtomaLLM, ChatAtoma])
def test_streaming_true_refuses_n_above_one_when_built(adapter: Any) -> None:
    with pytest.raises(ValidationError) as info:
        adapter(**_kwargs(streaming=True, n=2))
    (error,) = info.value.errors()
    cause = error["ctx"]["error"]
    assert type(cause) is ValueError
    assert str(cause) == ONE_ANSWER.format(name="n", value=2, where="a stream")


COLUMNS: dict[str, Callable[[], Any]] = {
    "CompleteColumn, client": lambda: CompleteColumn(
        AsyncAtomaClient(base_url=BASE_URL), model="m", n=2
    ),
    "ChatColumn, client": lambda: ChatColumn(AsyncAtomaClient(base_url=BASE_URL), model="m", n=2),
    "CompleteColumn, AtomaLLM": lambda: CompleteColumn(AtomaLLM(**_kwargs(n=2))),
    "CompleteColumn, Atoma": lambda: CompleteColumn(_llama(Atoma, n=2)),
    "ChatColumn, ChatAtoma": lambda: ChatColumn(ChatAtoma(**_kwargs(n=2))),
    "ChatColumn, AtomaChat": lambda: ChatColumn(_llama(AtomaChat, n=2)),
}


@pytest.mark.parametrize("entry", COLUMNS)
def test_every_dataset_column_refuses_n_above_one_alike(entry: str) -> None:
    with pytest.raises(ValueError) as info:
        COLUMNS[entry]()
    assert type(info.value) is ValueError
    assert str(info.value) == ONE_ANSWER.format(name="n", value=2, where="a dataset column")


def test_a_dataset_column_takes_best_of() -> None:
    # best_of returns one answer of several: a row holds it (only a stream cannot).
    CompleteColumn(AsyncAtomaClient(base_url=BASE_URL), model="m", best_of=3)


# -- the extra body does not override validated fields ----------------------------------------

RESERVED = (
    "{field} must not set {names}: {owner} sends {it} from its own checked fields and call "
    "arguments"
)

EXTRA_BODIES: dict[str, tuple[Callable[[dict[str, Any]], Any], str, str]] = {
    "AtomaLLM": (lambda extra: AtomaLLM(**_kwargs(model_kwargs=extra)), "model_kwargs", "top_p"),
    "ChatAtoma": (
        lambda extra: ChatAtoma(**_kwargs(model_kwargs=extra)),
        "model_kwargs",
        "top_p",
    ),
    "Atoma": (lambda extra: _llama(Atoma, additional_kwargs=extra), "additional_kwargs", "top_p"),
    "AtomaChat": (
        lambda extra: _llama(AtomaChat, additional_kwargs=extra),
        "additional_kwargs",
        "top_p",
    ),
    "AtomaEmbeddings": (
        lambda extra: AtomaEmbeddings(**_kwargs(model_kwargs=extra)),
        "model_kwargs",
        "dimensions",
    ),
    "AtomaEmbedding": (
        lambda extra: AtomaEmbedding(
            model_name="m", base_url=BASE_URL, max_retries=0, additional_kwargs=extra
        ),
        "additional_kwargs",
        "dimensions",
    ),
}


@pytest.mark.parametrize("owner", EXTRA_BODIES)
def test_every_adapter_refuses_a_validated_field_in_its_extra_body_alike(owner: str) -> None:
    build, field, name = EXTRA_BODIES[owner]
    with pytest.raises(ValidationError) as info:
        build({name: 1, "top_k": 40})
    cause = info.value.errors()[0]["ctx"]["error"]
    assert type(cause) is ValueError
    assert str(cause) == RESERVED.format(field=field, names=name, owner=owner, it="it")

    with pytest.raises(ValidationError) as info:
        build({"model": "x", name: 1})
    cause = info.value.errors()[0]["ctx"]["error"]
    names = ", ".join(sorted(["model", name]))  # named in order
    expected = RESERVED.format(field=field, names=names, owner=owner, it="them")
    assert str(cause) == expected


@pytest.mark.parametrize("owner", ["AtomaLLM", "Atoma"])
def test_the_completion_adapters_own_the_stream_options(owner: str) -> None:
    build, _, _ = EXTRA_BODIES[owner]
    with pytest.raises(ValidationError, match="must not set stream_options"):
        build({"stream_options": {"include_usage": False}})


# -- every stream asks for the usage ---------------------------------------------------------

USAGE_STREAMS: dict[str, Callable[[bool], Any]] = {
    "AtomaLLM.stream": lambda usage: AtomaLLM(**_kwargs(stream_usage=usage)).stream("p"),
    "AtomaLLM.astream": lambda usage: AtomaLLM(**_kwargs(stream_usage=usage)).astream("p"),
    "ChatAtoma.stream": lambda usage: ChatAtoma(**_kwargs(stream_usage=usage)).stream("hi"),
    "ChatAtoma.astream": lambda usage: ChatAtoma(**_kwargs(stream_usage=usage)).astream("hi"),
    "Atoma.stream_complete": lambda usage: _llama(Atoma, stream_usage=usage).stream_complete("p"),
    "Atoma.astream_complete": lambda usage: _llama(Atoma, stream_usage=usage).astream_complete("p"),
    "Atoma.stream_chat": lambda usage: _llama(Atoma, stream_usage=usage).stream_chat(HI),
    "AtomaChat.stream_chat": lambda usage: _llama(AtomaChat, stream_usage=usage).stream_chat(HI),
    "AtomaChat.astream_chat": lambda usage: _llama(AtomaChat, stream_usage=usage).astream_chat(HI),
}


@pytest.mark.parametrize("entry", USAGE_STREAMS)
def test_every_stream_asks_for_the_usage_unless_told_not_to(server: MockServer, entry: str) -> None:
    _drain(USAGE_STREAMS[entry](True))
    _drain(USAGE_STREAMS[entry](False))
    asked, not_asked = server.bodies
    assert asked["stream"] is True
    assert asked["stream_options"] == {"include_usage": True}
    assert not_asked["stream"] is True
    assert "stream_options" not in not_asked


def test_a_call_that_sets_its_own_stream_options_keeps_them(server: MockServer) -> None:
    _drain(AtomaLLM(**_kwargs()).stream("p", stream_options={"include_usage": False}))
    _drain(ChatAtoma(**_kwargs()).stream("hi", stream_options={"include_usage": False}))
    _drain(_llama(Atoma).stream_complete("p", stream_options={"include_usage": False}))
    assert [body["stream_options"] for body in server.bodies] == [{"include_usage": False}] * 3


def test_a_langchain_call_can_turn_the_stream_usage_off(server: MockServer) -> None:
    _drain(AtomaLLM(**_kwargs()).stream("p", stream_usage=False))
    _drain(ChatAtoma(**_kwargs()).stream("hi", stream_usage=False))
    assert ["stream_options" in body for body in server.bodies] == [False, False]


# -- and the usage reaches the completion adapters' results ------------------------------------


def test_atoma_llm_streams_carry_the_usage_a_server_sends_when_asked(server: MockServer) -> None:
    chunks = list(AtomaLLM(**_kwargs()).stream("p"))
    assert "".join(chunks) == "Hi"

    final = list(AtomaLLM(**_kwargs())._stream("p"))[-1]
    assert final.generation_info is not None
    assert final.generation_info["token_usage"] == USAGE

    result = AtomaLLM(**_kwargs(streaming=True)).generate(["p"])
    assert result.llm_output is not None
    assert result.llm_output["token_usage"] == USAGE


def test_llama_index_atoma_streams_carry_the_usage_a_server_sends_when_asked(
    server: MockServer,
) -> None:
    last = _drain(_llama(Atoma).stream_complete("p"))[-1]
    assert last.text == "Hi"
    assert last.raw.usage is not None and last.raw.usage.total_tokens == 7
    assert last.additional_kwargs["total_tokens"] == 7

    last = _drain(_llama(Atoma).astream_complete("p"))[-1]
    assert last.additional_kwargs["prompt_tokens"] == 5

    last_chat = _drain(_llama(Atoma).stream_chat(HI))[-1]
    assert last_chat.additional_kwargs["completion_tokens"] == 2


def test_a_ray_column_of_a_streaming_llm_gets_the_usage(server: MockServer) -> None:
    column = CompleteColumn(AtomaLLM(**_kwargs(streaming=True)))
    batch = {"prompt": np.array(["a", "b"], dtype=object)}
    out = asyncio.run(column(batch))
    assert list(out["completion"]) == ["Hi", "Hi"]
    assert list(out["completion_total_tokens"]) == [7, 7]
    assert all(body["stream_options"] == {"include_usage": True} for body in server.bodies)

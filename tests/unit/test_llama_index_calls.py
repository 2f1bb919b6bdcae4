"""Atoma (LlamaIndex) calls on a mocked transport: responses, streams, events, errors."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import httpx
import pytest
import respx
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import LogProb
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionInProgressEvent,
    LLMCompletionStartEvent,
)
from llama_index.core.llms import ChatMessage
from pydantic import ValidationError

from atoma_integrations import (
    AuthenticationError,
    Completion,
    ContextLengthExceededError,
    InternalServerError,
    RateLimitError,
    StreamInterruptedError,
)
from atoma_integrations import _client as client_module
from atoma_integrations.llama_index import Atoma
from tests.support.llama_index_events import Events, counter
from tests.support.mock_server import (
    MockServer,
    chunk,
    completion,
    json_reply,
    sse,
    stream_reply,
)

BASE_URL = "http://testserver/v1"
USAGE = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
SIGNED = {"response_hash": "aGFzaA==", "signature": "c2ln"}


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A scripted completions server behind respx (the adapter's clients are shared)."""
    mock = MockServer()
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(f"{BASE_URL}/completions").mock(side_effect=mock.handle)
        yield mock


def make_llm(**kwargs: Any) -> Atoma:
    kwargs.setdefault("model", "m")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("context_window", 2048)
    return Atoma(**kwargs)


def atoma_stream(*texts: str, usage: dict[str, int] | None = USAGE) -> httpx.Response:
    """A stream as Atoma sends it: keep-alive, signed chunks, the last with the finish
    reason, then a usage-only chunk, and no [DONE]."""
    events: list[dict[str, Any] | str] = [chunk(t, **SIGNED) for t in texts[:-1]]
    events.append(chunk(texts[-1], "stop", **SIGNED))
    if usage is not None:
        events.append({"id": "cmpl-1", "choices": [], "usage": usage, **SIGNED})
    return stream_reply([b": keep-alive\n\n", sse(*events)])


def llama_cpp_stream(*texts: str) -> httpx.Response:
    """A stream as llama.cpp sends it: text chunks, an empty finishing chunk, [DONE]."""
    events = [chunk(t) for t in texts] + [chunk("", "length")]
    return stream_reply([sse(*events, done=True)])


# -- complete --------------------------------------------------------------------------


def test_complete_maps_the_response(server: MockServer) -> None:
    server.replies = [json_reply(200, completion("Hello there", usage=USAGE, **SIGNED))]
    response = make_llm().complete("Say hi")
    assert response.text == "Hello there"
    assert isinstance(response.raw, Completion)
    assert response.raw.usage is not None and response.raw.usage.total_tokens == 14
    assert response.additional_kwargs == {
        "response_hash": "aGFzaA==",
        "signature": "c2ln",
        "finish_reason": "stop",
        "prompt_tokens": 11,
        "completion_tokens": 3,
        "total_tokens": 14,
    }
    assert response.logprobs is None


def test_complete_sends_fields_call_values_and_extra_body(server: MockServer) -> None:
    server.replies = [json_reply(200, completion())]
    llm = make_llm(
        temperature=0.2, stop=["\n\n"], seed=7, additional_kwargs={"top_k": 40, "min_p": 0.1}
    )
    llm.complete("p", temperature=0.9, stop="END", min_p=0.2, best_of=None)
    body = server.bodies[0]
    assert body == {
        "model": "m",
        "prompt": "p",
        "max_tokens": 256,
        "temperature": 0.9,
        "stop": ["END"],
        "seed": 7,
        "top_k": 40,
        "min_p": 0.2,
    }


def test_a_bad_per_call_value_fails_before_any_request(server: MockServer) -> None:
    with pytest.raises(ValidationError, match="temperature"):
        make_llm().complete("p", temperature=5)
    assert server.requests == []


def test_formatted_false_applies_completion_to_prompt(server: MockServer) -> None:
    server.replies = [json_reply(200, completion())]
    llm = make_llm(completion_to_prompt=lambda p: f"<s>[INST] {p} [/INST]")
    llm.complete("hi")
    llm.complete("hi", formatted=True)
    assert [b["prompt"] for b in server.bodies] == ["<s>[INST] hi [/INST]", "hi"]


def test_logprobs_become_llama_index_logprobs_with_the_chosen_token_first(
    server: MockServer,
) -> None:
    logprobs = {
        "tokens": [" a", " b"],
        "token_logprobs": [-0.5, -1.5],
        "top_logprobs": [{" a": -0.5, " x": -2.0}, {" y": -1.0, " b": -1.5}],
        "text_offset": [0, 2],
    }
    body = completion(" a b")
    body["choices"][0]["logprobs"] = logprobs
    server.replies = [json_reply(200, body)]
    response = make_llm(logprobs=2).complete("p")
    assert server.bodies[0]["logprobs"] == 2
    assert response.logprobs == [
        [
            LogProb(token=" a", logprob=-0.5, bytes=[32, 97]),
            LogProb(token=" x", logprob=-2.0, bytes=[32, 120]),
        ],
        [
            LogProb(token=" b", logprob=-1.5, bytes=[32, 98]),
            LogProb(token=" y", logprob=-1.0, bytes=[32, 121]),
        ],
    ]


def test_several_choices_keep_the_first_as_text_and_all_in_additional_kwargs(
    server: MockServer,
) -> None:
    body = completion("first")
    body["choices"] = [
        {"index": 1, "text": "second", "finish_reason": "stop"},
        {"index": 0, "text": "first", "finish_reason": "stop"},
    ]
    server.replies = [json_reply(200, body)]
    response = make_llm(n=2).complete("p")
    assert response.text == "first"
    assert response.additional_kwargs["texts"] == ["first", "second"]


def test_complete_fires_start_and_end_events_with_a_safe_model_dict(
    server: MockServer, events: Events
) -> None:
    server.replies = [json_reply(200, completion("ok"))]
    make_llm(api_key="sk-secret-xyz").complete("p")
    assert events.names() == ["LLMCompletionStartEvent", "LLMCompletionEndEvent"]
    start = events.events[0]
    assert isinstance(start, LLMCompletionStartEvent)
    assert "sk-secret-xyz" not in json.dumps(start.model_dict)
    if hasattr(BaseLLM, "to_payload"):
        # llama-index-core with LLM.to_payload sends our payload in events; older ones send
        # to_dict(), the serialized fields (where the key is masked all the same).
        assert start.model_dict["model_name"] == "m"
    else:
        assert start.model_dict["model"] == "m"


def test_token_counter_takes_usage_from_the_server(server: MockServer) -> None:
    server.replies = [json_reply(200, completion("a b c", usage=USAGE))]
    tokens = counter()
    make_llm(callback_manager=CallbackManager([tokens])).complete("one two")
    assert (tokens.prompt_llm_token_count, tokens.completion_llm_token_count) == (11, 3)
    assert len(tokens.llm_token_counts) == 1


# -- stream_complete -------------------------------------------------------------------


def test_stream_yields_deltas_and_cumulative_text_with_usage_once_at_the_end(
    server: MockServer,
) -> None:
    server.replies = [atoma_stream("Hel", "lo", "!")]
    responses = list(make_llm().stream_complete("p"))
    assert [r.delta for r in responses] == ["Hel", "lo", "!"]
    assert [r.text for r in responses] == ["Hel", "Hello", "Hello!"]
    assert server.bodies[0]["stream"] is True
    # Usage and token counts on the final response only.
    assert [r.additional_kwargs.get("total_tokens") for r in responses] == [None, None, 14]
    final = responses[-1]
    assert final.raw.usage is not None and final.raw.usage.prompt_tokens == 11
    assert final.additional_kwargs["finish_reason"] == "stop"
    # Every Atoma chunk is signed; each response carries its chunk's signature.
    assert all(r.additional_kwargs["signature"] == "c2ln" for r in responses)


def test_stream_from_llama_cpp_ends_with_an_empty_delta_and_no_usage(
    server: MockServer,
) -> None:
    server.replies = [llama_cpp_stream("a", "b")]
    responses = list(make_llm().stream_complete("p"))
    assert [r.delta for r in responses] == ["a", "b", ""]
    assert responses[-1].text == "ab"
    assert responses[-1].additional_kwargs == {"finish_reason": "length"}


def test_usage_repeated_on_every_chunk_is_taken_once_not_summed(server: MockServer) -> None:
    events = [
        chunk("a", usage={"prompt_tokens": 11, "completion_tokens": 1, "total_tokens": 12}),
        chunk("b", usage={"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}),
        chunk("c", "stop", usage=USAGE),
    ]
    server.replies = [stream_reply([sse(*events)])]
    tokens = counter()
    responses = list(make_llm(callback_manager=CallbackManager([tokens])).stream_complete("p"))
    assert responses[-1].additional_kwargs["total_tokens"] == 14
    assert (tokens.prompt_llm_token_count, tokens.completion_llm_token_count) == (11, 3)
    assert len(tokens.llm_token_counts) == 1


def test_stream_event_sequence_is_start_one_in_progress_per_token_end(
    server: MockServer, events: Events
) -> None:
    server.replies = [atoma_stream("a", "b", "c")]
    tokens = counter()
    llm = make_llm(callback_manager=CallbackManager([tokens]))
    deltas = [r.delta for r in llm.stream_complete("p")]
    assert deltas == ["a", "b", "c"]
    assert events.names() == [
        "LLMCompletionStartEvent",
        "LLMCompletionInProgressEvent",
        "LLMCompletionInProgressEvent",
        "LLMCompletionInProgressEvent",
        "LLMCompletionEndEvent",
    ]
    progress = [e for e in events.events if isinstance(e, LLMCompletionInProgressEvent)]
    assert [e.response.delta for e in progress] == ["a", "b", "c"]
    end = next(e for e in events.events if isinstance(e, LLMCompletionEndEvent))
    assert end.response.text == "abc"
    # The token counter saw the usage exactly once.
    assert (tokens.prompt_llm_token_count, tokens.completion_llm_token_count) == (11, 3)
    assert len(tokens.llm_token_counts) == 1


def test_stream_logprobs_arrive_per_chunk(server: MockServer) -> None:
    def with_logprobs(text: str, finish: str | None = None) -> dict[str, Any]:
        event = chunk(text, finish)
        event["choices"][0]["logprobs"] = {
            "tokens": [text],
            "token_logprobs": [-0.25],
            "top_logprobs": [{text: -0.25}],
            "text_offset": [0],
        }
        return event

    server.replies = [stream_reply([sse(with_logprobs("a"), with_logprobs("b", "stop"))])]
    responses = list(make_llm(logprobs=0).stream_complete("p"))
    assert [r.logprobs for r in responses] == [
        [[LogProb(token="a", logprob=-0.25, bytes=[97])]],
        [[LogProb(token="b", logprob=-0.25, bytes=[98])]],
    ]


def test_streaming_several_choices_is_refused_before_any_request(server: MockServer) -> None:
    with pytest.raises(ValueError, match="n=2, but a stream holds one answer per request"):
        make_llm(n=2).stream_complete("p")
    assert server.requests == []


def test_breaking_out_of_a_stream_closes_the_connection(server: MockServer) -> None:
    server.replies = [lambda _: llama_cpp_stream("a", "b", "c", "d")]
    llm = make_llm()
    for response in llm.stream_complete("p"):
        assert response.delta == "a"
        break
    assert server.streams[0].closed

    gen = llm.stream_complete("p")
    next(gen)
    assert not server.streams[1].closed  # still streaming
    gen.close()
    assert server.streams[1].closed


def test_http_errors_are_typed_and_raised_by_the_call(server: MockServer, events: Events) -> None:
    server.replies = [json_reply(401, {"error": {"code": "AUTH_ERROR", "message": "no"}})]
    llm = make_llm()
    with pytest.raises(AuthenticationError):
        llm.complete("p")
    server.replies = [json_reply(429, {"error": {"code": "TOO_MANY_REQUESTS", "message": "x"}})]
    with pytest.raises(RateLimitError):
        llm.stream_complete("p")  # the request is sent by the call, not by next()
    server.replies = [
        json_reply(
            400,
            {"error": {"code": "context_length_exceeded", "message": "maximum context length"}},
        )
    ]
    with pytest.raises(ContextLengthExceededError):
        llm.complete("p")
    assert "LLMCompletionEndEvent" not in events.names()


def test_a_stream_cut_short_raises_with_the_text_so_far(server: MockServer) -> None:
    server.replies = [stream_reply([sse(chunk("par"), chunk("tial"))])]
    seen: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        for response in make_llm().stream_complete("p"):
            seen.append(response.delta or "")
    assert seen == ["par", "tial"]
    assert info.value.text == "partial"


def test_retries_are_the_clients_only_and_honour_max_retries(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "_sleep", lambda seconds: None)
    server.replies = [json_reply(500, {"error": {"message": "boom"}})]
    with pytest.raises(InternalServerError):
        make_llm(max_retries=2).complete("p")
    assert len(server.requests) == 3


# -- chat ------------------------------------------------------------------------------


def test_chat_renders_messages_and_fires_one_chat_event_pair(
    server: MockServer, events: Events
) -> None:
    server.replies = [json_reply(200, completion("Paris.", usage=USAGE))]
    tokens = counter()
    llm = make_llm(callback_manager=CallbackManager([tokens]))
    response = llm.chat(
        [
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="Capital of France?"),
        ]
    )
    assert response.message.content == "Paris."
    assert response.message.role == "assistant"
    assert server.bodies[0]["prompt"] == (
        "system: Be brief.\nuser: Capital of France?\nassistant: "
    )
    assert events.names() == ["LLMChatStartEvent", "LLMChatEndEvent"]
    assert len(tokens.llm_token_counts) == 1
    assert tokens.total_llm_token_count == 14


def test_chat_uses_a_custom_messages_to_prompt(server: MockServer) -> None:
    server.replies = [json_reply(200, completion("x"))]

    def chatml(messages: Any) -> str:
        turns = "".join(f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n"

    make_llm(messages_to_prompt=chatml).chat([ChatMessage(role="user", content="hi")])
    assert server.bodies[0]["prompt"] == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_stream_chat_streams_deltas_with_usage_at_the_end(
    server: MockServer, events: Events
) -> None:
    server.replies = [atoma_stream("Pa", "ris")]
    responses = list(make_llm().stream_chat([ChatMessage(role="user", content="?")]))
    assert [r.delta for r in responses] == ["Pa", "ris"]
    assert responses[-1].message.content == "Paris"
    assert responses[-1].message.additional_kwargs["total_tokens"] == 14
    assert events.names() == [
        "LLMChatStartEvent",
        "LLMChatInProgressEvent",
        "LLMChatInProgressEvent",
        "LLMChatEndEvent",
    ]


def test_breaking_out_of_a_chat_stream_closes_the_connection(server: MockServer) -> None:
    server.replies = [lambda _: llama_cpp_stream("a", "b", "c")]
    for _ in make_llm().stream_chat([ChatMessage(role="user", content="?")]):
        break
    assert server.streams[0].closed


# -- async -----------------------------------------------------------------------------


def test_the_no_sync_client_guard_catches_a_sync_call(
    server: MockServer, no_sync_client: None
) -> None:
    # What makes the async tests below mean something: a sync client would be caught.
    server.replies = [json_reply(200, completion("sync", usage=USAGE))]
    with pytest.raises(AssertionError, match="used the sync client"):
        make_llm().complete("p")
    assert server.requests == []


async def test_acomplete(server: MockServer, events: Events, no_sync_client: None) -> None:
    server.replies = [json_reply(200, completion("async ok", usage=USAGE))]
    response = await make_llm().acomplete("p")
    assert response.text == "async ok"
    assert response.additional_kwargs["total_tokens"] == 14
    assert events.names() == ["LLMCompletionStartEvent", "LLMCompletionEndEvent"]


async def test_astream_complete_is_a_coroutine_returning_an_async_generator(
    server: MockServer, events: Events, no_sync_client: None
) -> None:
    assert inspect.iscoroutinefunction(Atoma.astream_complete)
    server.replies = [atoma_stream("a", "b")]
    tokens = counter()
    gen = await make_llm(callback_manager=CallbackManager([tokens])).astream_complete("p")
    assert isinstance(gen, AsyncGenerator)
    responses = [r async for r in gen]
    assert [r.delta for r in responses] == ["a", "b"]
    assert responses[-1].additional_kwargs["total_tokens"] == 14
    assert events.names() == [
        "LLMCompletionStartEvent",
        "LLMCompletionInProgressEvent",
        "LLMCompletionInProgressEvent",
        "LLMCompletionEndEvent",
    ]
    assert len(tokens.llm_token_counts) == 1
    assert tokens.total_llm_token_count == 14


async def test_async_errors_are_typed(server: MockServer, no_sync_client: None) -> None:
    server.replies = [json_reply(401, {"error": {"code": "AUTH_ERROR", "message": "no"}})]
    llm = make_llm()
    with pytest.raises(AuthenticationError):
        await llm.acomplete("p")
    with pytest.raises(AuthenticationError):
        await llm.astream_complete("p")


async def test_breaking_out_of_an_async_stream_closes_the_connection(
    server: MockServer,
) -> None:
    server.replies = [lambda _: llama_cpp_stream("a", "b", "c")]
    gen = await make_llm().astream_complete("p")
    async for _ in gen:
        break
    assert not server.streams[0].closed
    await gen.aclose()
    # LlamaIndex's wrapper does not close our generator itself; the event loop's
    # async-generator finalizer does, a few steps later.
    for _ in range(20):
        if server.streams[0].closed:
            break
        await asyncio.sleep(0)
    assert server.streams[0].closed


async def test_achat_and_astream_chat_use_only_the_async_client(
    server: MockServer, events: Events, no_sync_client: None
) -> None:
    llm = make_llm()
    server.replies = [json_reply(200, completion("hi"))]
    response = await llm.achat([ChatMessage(role="user", content="?")])
    assert response.message.content == "hi"
    server.replies = [atoma_stream("h", "i")]
    gen = await llm.astream_chat([ChatMessage(role="user", content="?")])
    assert [r.delta async for r in gen] == ["h", "i"]
    assert events.names() == [
        "LLMChatStartEvent",
        "LLMChatEndEvent",
        "LLMChatStartEvent",
        "LLMChatInProgressEvent",
        "LLMChatInProgressEvent",
        "LLMChatEndEvent",
    ]
    assert [type(e) for e in events.events if isinstance(e, LLMChatStartEvent)] == [
        LLMChatStartEvent,
        LLMChatStartEvent,
    ]
    assert sum(isinstance(e, LLMChatEndEvent) for e in events.events) == 2


def test_one_object_works_across_event_loops(server: MockServer) -> None:
    server.replies = [lambda _: json_reply(200, completion("again"))]
    llm = make_llm()
    assert asyncio.run(llm.acomplete("p")).text == "again"
    assert asyncio.run(llm.acomplete("p")).text == "again"

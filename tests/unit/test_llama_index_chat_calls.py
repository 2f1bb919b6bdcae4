"""AtomaChat (LlamaIndex) calls on a mocked transport: responses, tools, streams, events."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import AsyncGenerator, Iterator
from typing import Any, Literal

import httpx
import pytest
import respx
from llama_index.core.base.llms.types import LogProb, TextBlock, ToolCallBlock
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import ChatMessage, ChatResponse
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, ValidationError

from atoma_integrations import (
    AuthenticationError,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessageToolCall,
    RateLimitError,
    StreamInterruptedError,
)
from atoma_integrations.llama_index import AtomaChat
from atoma_integrations.llama_index import chat as chat_module
from tests.support.llama_index_events import Events, counter
from tests.support.mock_server import (
    MockServer,
    chat_chunk,
    chat_completion,
    json_reply,
    sse,
    stream_reply,
    tool_delta,
)

BASE_URL = "http://testserver/v1"
USAGE = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
SIGNED = {"response_hash": "aGFzaA==", "signature": "c2ln"}
HI = [ChatMessage(role="user", content="hi")]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


ADD = FunctionTool.from_defaults(add)
WEATHER = FunctionTool.from_defaults(weather)


def call(name: str, arguments: str, call_id: str = "call_1") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A scripted chat server behind respx (the adapter's clients are shared)."""
    mock = MockServer()
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(f"{BASE_URL}/chat/completions").mock(side_effect=mock.handle)
        yield mock


def make_llm(**kwargs: Any) -> AtomaChat:
    kwargs.setdefault("model", "m")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("context_window", 2048)
    return AtomaChat(**kwargs)


def atoma_stream(*texts: str, usage: dict[str, int] | None = USAGE) -> httpx.Response:
    """A chat stream as Atoma sends it: keep-alive, signed chunks, the finish reason on the
    last, then a usage-only chunk, and no [DONE]."""
    chunks: list[dict[str, Any] | str] = [chat_chunk(texts[0], role="assistant", **SIGNED)]
    chunks += [chat_chunk(t, **SIGNED) for t in texts[1:]]
    chunks.append(chat_chunk(None, "stop", **SIGNED))
    if usage is not None:
        chunks.append({"id": "chatcmpl-1", "choices": [], "usage": usage, **SIGNED})
    return stream_reply([b": keep-alive\n\n", sse(*chunks)])


def llama_cpp_tool_stream(name: str, pieces: list[str], call_id: str = "call_1") -> list[bytes]:
    """A streamed tool call as llama.cpp sends it, one event per network read: id and name
    repeated in every piece."""
    chunks = [chat_chunk(None, role="assistant")]
    chunks += [
        chat_chunk(None, tool_calls=[tool_delta(0, p, call_id=call_id, name=name)]) for p in pieces
    ]
    chunks.append(chat_chunk(None, "tool_calls"))
    return [sse(chunk) for chunk in chunks] + [b"data: [DONE]\n\n"]


# -- chat --------------------------------------------------------------------------------


def test_chat_maps_the_response(server: MockServer) -> None:
    server.replies = [json_reply(200, chat_completion("Hello there", usage=USAGE, **SIGNED))]
    response = make_llm().chat(HI)
    assert response.message.role == "assistant"
    assert response.message.content == "Hello there"
    assert isinstance(response.raw, ChatCompletion)
    assert response.additional_kwargs == {
        **SIGNED,
        "finish_reason": "stop",
        "prompt_tokens": 11,
        "completion_tokens": 3,
        "total_tokens": 14,
    }
    # As Atoma's chat does: the message carries the same extras, the signature included.
    assert response.message.additional_kwargs["signature"] == "c2ln"
    assert response.logprobs is None


def test_chat_sends_messages_fields_call_values_and_extra_body(server: MockServer) -> None:
    server.replies = [json_reply(200, chat_completion())]
    llm = make_llm(temperature=0.2, stop=["\n\n"], seed=7, additional_kwargs={"top_k": 40})
    llm.chat(
        [ChatMessage(role="system", content="Be brief."), *HI],
        temperature=0.9,
        stop="END",
        min_p=0.2,
    )
    assert server.bodies[0] == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
        ],
        "max_tokens": 256,
        "temperature": 0.9,
        "stop": ["END"],
        "seed": 7,
        "top_k": 40,
        "min_p": 0.2,
    }


def test_bad_values_and_messages_fail_before_any_request(server: MockServer) -> None:
    llm = make_llm()
    with pytest.raises(ValidationError, match="temperature"):
        llm.chat(HI, temperature=5)
    with pytest.raises(ValueError, match=r"message 0 \(tool\).*tool_call_id"):
        llm.chat([ChatMessage(role="tool", content="3")])
    with pytest.raises(ValidationError, match="response_format"):
        llm.chat(HI, response_format={"type": "xml"})
    assert server.requests == []


def test_a_tool_conversation_is_sent_back_in_openai_shape(server: MockServer) -> None:
    """The assistant's tool call (as this LLM returned it) and the tool's result."""
    server.replies = [
        json_reply(200, chat_completion(None, "tool_calls", tool_calls=[call("add", '{"a":1}')])),
        json_reply(200, chat_completion("It is 3.")),
    ]
    llm = make_llm()
    first = llm.chat_with_tools([ADD], user_msg="1 + 2?", tool_required=True)
    history = [
        ChatMessage(role="user", content="1 + 2?"),
        first.message,
        ChatMessage(role="tool", content="3", additional_kwargs={"tool_call_id": "call_1"}),
    ]
    assert llm.chat(history).message.content == "It is 3."
    assert server.bodies[1]["messages"] == [
        {"role": "user", "content": "1 + 2?"},
        {"role": "assistant", "content": "", "tool_calls": [call("add", '{"a":1}')]},
        {"role": "tool", "content": "3", "tool_call_id": "call_1"},
    ]


def test_logprobs_become_llama_index_logprobs_with_the_chosen_token_first(
    server: MockServer,
) -> None:
    body = chat_completion(" a")
    body["choices"][0]["logprobs"] = {
        "content": [
            {
                "token": " a",
                "logprob": -0.5,
                "bytes": [32, 97],
                "top_logprobs": [
                    {"token": " x", "logprob": -2.0, "bytes": [32, 120]},
                    {"token": " a", "logprob": -0.5, "bytes": [32, 97]},
                ],
            }
        ]
    }
    server.replies = [json_reply(200, body)]
    response = make_llm(logprobs=True, top_logprobs=2).chat(HI)
    assert (server.bodies[0]["logprobs"], server.bodies[0]["top_logprobs"]) == (True, 2)
    assert response.logprobs == [
        [
            LogProb(token=" a", logprob=-0.5, bytes=[32, 97]),
            LogProb(token=" x", logprob=-2.0, bytes=[32, 120]),
        ]
    ]


def test_chat_fires_one_event_pair_and_the_counter_takes_the_servers_usage(
    server: MockServer, events: Events
) -> None:
    server.replies = [json_reply(200, chat_completion("a b c", usage=USAGE))]
    tokens = counter()
    make_llm(api_key="sk-secret-xyz", callback_manager=CallbackManager([tokens])).chat(HI)
    assert events.names() == ["LLMChatStartEvent", "LLMChatEndEvent"]
    start = events.events[0]
    assert "sk-secret-xyz" not in json.dumps(getattr(start, "model_dict", {}))
    assert (tokens.prompt_llm_token_count, tokens.completion_llm_token_count) == (11, 3)
    assert len(tokens.llm_token_counts) == 1


def test_complete_goes_through_chat_as_one_user_message(server: MockServer, events: Events) -> None:
    server.replies = [json_reply(200, chat_completion("done", usage=USAGE))]
    response = make_llm().complete("Say done")
    assert response.text == "done"
    assert response.additional_kwargs["total_tokens"] == 14
    assert server.bodies[0]["messages"] == [{"role": "user", "content": "Say done"}]
    assert events.names() == ["LLMCompletionStartEvent", "LLMCompletionEndEvent"]


def test_http_errors_are_typed_and_raised_by_the_call(server: MockServer, events: Events) -> None:
    llm = make_llm()
    server.replies = [json_reply(401, {"error": {"code": "AUTH_ERROR", "message": "no"}})]
    with pytest.raises(AuthenticationError):
        llm.chat(HI)
    server.replies = [json_reply(429, {"error": {"code": "TOO_MANY_REQUESTS", "message": "x"}})]
    with pytest.raises(RateLimitError):
        llm.stream_chat(HI)  # the request is sent by the call, not by next()
    assert "LLMChatEndEvent" not in events.names()


# -- tools -------------------------------------------------------------------------------


def test_chat_with_tools_sends_the_tools_and_llama_index_tool_choice(server: MockServer) -> None:
    server.replies = [lambda _: json_reply(200, chat_completion("ok"))]
    llm = make_llm()
    llm.chat_with_tools([ADD, WEATHER], user_msg="hi")
    llm.chat_with_tools([ADD, WEATHER], user_msg="hi", tool_required=True)
    llm.chat_with_tools([ADD, WEATHER], user_msg="hi", tool_choice="weather")
    llm.chat_with_tools([ADD, WEATHER], user_msg="hi", allow_parallel_tool_calls=True)
    first = server.bodies[0]
    assert [t["function"]["name"] for t in first["tools"]] == ["add", "weather"]
    assert first["tools"][0]["function"]["parameters"]["required"] == ["a", "b"]
    assert [(b["tool_choice"], b["parallel_tool_calls"]) for b in server.bodies] == [
        ("auto", False),
        ("required", False),
        ({"type": "function", "function": {"name": "weather"}}, False),
        ("auto", True),
    ]


def test_tool_required_with_one_tool_is_sent_as_the_named_choice(server: MockServer) -> None:
    """llama.cpp answers "required" with a 500; naming the only tool means the same."""
    server.replies = [json_reply(200, chat_completion(None, "tool_calls", tool_calls=[]))]
    make_llm().chat_with_tools([ADD], user_msg="1 + 2?", tool_required=True)
    assert server.bodies[0]["tool_choice"] == {"type": "function", "function": {"name": "add"}}


def test_a_tool_choice_naming_no_given_tool_fails_before_any_request(server: MockServer) -> None:
    with pytest.raises(ValueError, match="'multiply'"):
        make_llm().chat_with_tools([ADD], user_msg="hi", tool_choice="multiply")
    assert server.requests == []


def test_tool_calls_are_blocks_and_typed_additional_kwargs(server: MockServer) -> None:
    calls = [call("add", '{"a": 1, "b": 2}'), call("weather", '{"city": "Oslo"}', "call_2")]
    server.replies = [json_reply(200, chat_completion(None, "tool_calls", tool_calls=calls))]
    llm = make_llm()
    response = llm.chat_with_tools([ADD, WEATHER], user_msg="?", allow_parallel_tool_calls=True)
    message = response.message
    assert message.content is None
    assert [
        (b.tool_call_id, b.tool_name) for b in message.blocks if isinstance(b, ToolCallBlock)
    ] == [
        ("call_1", "add"),
        ("call_2", "weather"),
    ]
    typed = message.additional_kwargs["tool_calls"]
    assert all(isinstance(c, ChatCompletionMessageToolCall) for c in typed)
    selections = llm.get_tool_calls_from_response(response)
    assert [(s.tool_id, s.tool_name, s.tool_kwargs) for s in selections] == [
        ("call_1", "add", {"a": 1, "b": 2}),
        ("call_2", "weather", {"city": "Oslo"}),
    ]


def test_without_parallel_calls_the_first_is_kept_and_the_rest_logged(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    calls = [call("add", '{"a": 1, "b": 2}'), call("weather", '{"city": "Oslo"}', "call_2")]
    server.replies = [json_reply(200, chat_completion(None, "tool_calls", tool_calls=calls))]
    llm = make_llm()
    with caplog.at_level(logging.WARNING, logger="atoma_integrations"):
        response = llm.chat_with_tools([ADD, WEATHER], user_msg="?")
    assert [s.tool_name for s in llm.get_tool_calls_from_response(response)] == ["add"]
    assert len(response.message.additional_kwargs["tool_calls"]) == 1
    assert "leaving out ['weather']" in caplog.text


def test_arguments_that_are_not_json_raise_naming_the_tool_or_are_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = chat_completion(None, "length", tool_calls=[call("add", '{"a": 1, "b"')])
    response = chat_module.chat_response(ChatCompletion.model_validate(body))
    llm = make_llm()
    with pytest.raises(ValueError, match=r"call of 'add' \(id 'call_1'\).*max_tokens"):
        llm.get_tool_calls_from_response(response)
    with caplog.at_level(logging.WARNING, logger="atoma_integrations"):
        assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    assert "skipping a tool call" in caplog.text


def test_no_tool_call_raises_or_gives_an_empty_list() -> None:
    response = chat_module.chat_response(ChatCompletion.model_validate(chat_completion("Hi")))
    llm = make_llm()
    with pytest.raises(ValueError, match=r"the model made none.*'Hi'"):
        llm.get_tool_calls_from_response(response)
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []


def test_tool_calls_after_a_json_round_trip_are_still_read() -> None:
    """A chat store keeps messages as JSON: calls come back as dicts, blocks as blocks."""
    message = ChatMessage(
        role="assistant", content="", additional_kwargs={"tool_calls": [call("add", "{}")]}
    )
    restored = ChatMessage.model_validate_json(message.model_dump_json())
    selections = make_llm().get_tool_calls_from_response(ChatResponse(message=restored))
    assert [(s.tool_name, s.tool_kwargs) for s in selections] == [("add", {})]


def test_predict_and_call_calls_the_tool_with_the_parsed_arguments(server: MockServer) -> None:
    server.replies = [
        json_reply(
            200, chat_completion(None, "tool_calls", tool_calls=[call("add", '{"a":2,"b":3}')])
        )
    ]
    result = make_llm().predict_and_call([ADD], user_msg="2 + 3?", tool_required=True)
    assert result.response == "5"
    assert result.sources[0].raw_input == {"args": (), "kwargs": {"a": 2, "b": 3}}


class Verdict(BaseModel):
    """A verdict about a statement."""

    answer: Literal["yes", "no"]
    confidence: int


def test_structured_predict_names_the_output_tool_and_parses_its_call(server: MockServer) -> None:
    arguments = '{"answer": "yes", "confidence": 9}'
    server.replies = [
        lambda _: json_reply(
            200, chat_completion(None, "tool_calls", tool_calls=[call("Verdict", arguments)])
        )
    ]
    llm = make_llm()
    verdict = llm.structured_predict(Verdict, PromptTemplate("Is {x} a color?"), x="red")
    assert verdict == Verdict(answer="yes", confidence=9)
    assert server.bodies[0]["tool_choice"] == {"type": "function", "function": {"name": "Verdict"}}
    assert server.bodies[0]["messages"] == [{"role": "user", "content": "Is red a color?"}]
    structured = llm.as_structured_llm(Verdict).chat(HI)
    assert structured.raw == Verdict(answer="yes", confidence=9)
    assert json.loads(structured.message.content or "") == {"answer": "yes", "confidence": 9}


def test_streamed_structured_output_names_the_output_tool_too(server: MockServer) -> None:
    pieces = ['{"answer": ', '"no", "conf', 'idence": 2}']
    server.replies = [stream_reply(llama_cpp_tool_stream("Verdict", pieces))]
    llm = make_llm()
    parts = list(llm.stream_structured_predict(Verdict, PromptTemplate("Is {x}?"), x="it"))
    assert parts[-1] == Verdict(answer="no", confidence=2)
    assert server.bodies[0]["tool_choice"] == {"type": "function", "function": {"name": "Verdict"}}


# -- streams -------------------------------------------------------------------------------


def test_stream_chat_yields_deltas_and_the_usage_once_at_the_end(
    server: MockServer, events: Events
) -> None:
    server.replies = [atoma_stream("Pa", "ris", "!")]
    tokens = counter()
    llm = make_llm(callback_manager=CallbackManager([tokens]))
    responses = list(llm.stream_chat(HI))
    assert [r.delta for r in responses] == ["Pa", "ris", "!", ""]
    assert [r.message.content for r in responses] == ["Pa", "Paris", "Paris!", "Paris!"]
    body = server.bodies[0]
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})
    assert [r.additional_kwargs.get("total_tokens") for r in responses] == [None, None, None, 14]
    final = responses[-1]
    assert isinstance(final.raw, ChatCompletionChunk)
    assert final.raw.usage is not None and final.raw.usage.prompt_tokens == 11
    assert final.additional_kwargs["finish_reason"] == "stop"
    assert all(r.additional_kwargs["signature"] == "c2ln" for r in responses)
    assert events.names() == [
        "LLMChatStartEvent",
        *["LLMChatInProgressEvent"] * 4,
        "LLMChatEndEvent",
    ]
    assert (tokens.prompt_llm_token_count, tokens.completion_llm_token_count) == (11, 3)
    assert len(tokens.llm_token_counts) == 1


def test_stream_usage_can_be_left_off(server: MockServer) -> None:
    server.replies = [atoma_stream("a")]
    list(make_llm(stream_usage=False).stream_chat(HI))
    assert "stream_options" not in server.bodies[0]


def test_a_streamed_tool_call_grows_in_the_message_and_ends_whole(server: MockServer) -> None:
    pieces = ['{"a"', ': 2, "b', '": 3}']
    server.replies = [stream_reply(llama_cpp_tool_stream("add", pieces))]
    llm = make_llm()
    responses = list(llm.stream_chat_with_tools([ADD], user_msg="2 + 3?", tool_required=True))
    partial = [r.message.additional_kwargs["tool_calls"] for r in responses[:-1]]
    # id and name once, though llama.cpp repeats them; arguments as far as they arrived.
    assert [
        [(c.id, c.function.name, c.function.arguments) for c in calls] for calls in partial
    ] == [
        [("call_1", "add", '{"a"')],
        [("call_1", "add", '{"a": 2, "b')],
        [("call_1", "add", '{"a": 2, "b": 3}')],
    ]
    # What an agent shows while it streams: the arguments parsed so far.
    shown = [llm.get_tool_calls_from_response(r, error_on_no_tool_call=False) for r in responses]
    assert [s[0].tool_kwargs for s in shown] == [{}, {"a": 2}, {"a": 2, "b": 3}, {"a": 2, "b": 3}]
    final = responses[-1]
    block = next(b for b in final.message.blocks if isinstance(b, ToolCallBlock))
    assert block.tool_kwargs == '{"a": 2, "b": 3}'  # exactly as the model wrote it
    assert final.additional_kwargs["finish_reason"] == "tool_calls"


def test_interleaved_streamed_tool_calls_are_kept_apart_by_index(server: MockServer) -> None:
    chunks = [
        chat_chunk(None, tool_calls=[tool_delta(0, "", call_id="c0", name="add")]),
        chat_chunk(None, tool_calls=[tool_delta(1, "", call_id="c1", name="weather")]),
        chat_chunk(None, tool_calls=[tool_delta(0, '{"a": 1, '), tool_delta(1, '{"city"')]),
        chat_chunk(None, tool_calls=[tool_delta(1, ': "Oslo"}'), tool_delta(0, '"b": 2}')]),
        chat_chunk(None, "tool_calls"),
    ]
    server.replies = [stream_reply([sse(*chunks)])]
    llm = make_llm()
    *_, final = llm.stream_chat_with_tools(
        [ADD, WEATHER], user_msg="?", allow_parallel_tool_calls=True
    )
    assert [(s.tool_id, s.tool_kwargs) for s in llm.get_tool_calls_from_response(final)] == [
        ("c0", {"a": 1, "b": 2}),
        ("c1", {"city": "Oslo"}),
    ]


def test_streaming_several_choices_is_refused_before_any_request(server: MockServer) -> None:
    with pytest.raises(ValueError, match="n=2, but a stream holds one answer per request"):
        make_llm(n=2).stream_chat(HI)
    assert server.requests == []


def test_a_stream_cut_short_raises_with_what_arrived(server: MockServer) -> None:
    pieces = [sse(chat_chunk("par", role="assistant"), chat_chunk("tial"))]
    server.replies = [stream_reply(pieces)]
    seen: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        for response in make_llm().stream_chat(HI):
            seen.append(response.delta or "")
    assert seen == ["par", "tial"]
    assert info.value.text == "partial"


def test_breaking_out_of_a_chat_stream_closes_the_connection(server: MockServer) -> None:
    server.replies = [lambda _: atoma_stream("a", "b", "c")]
    llm = make_llm()
    for _ in llm.stream_chat(HI):
        break
    assert server.streams[0].closed
    gen = llm.stream_complete("p")
    next(gen)
    assert not server.streams[1].closed
    gen.close()
    assert server.streams[1].closed


def test_stream_complete_streams_the_chat_answer(server: MockServer, events: Events) -> None:
    server.replies = [atoma_stream("a", "b")]
    responses = list(make_llm().stream_complete("p"))
    assert [(r.delta, r.text) for r in responses] == [("a", "a"), ("b", "ab"), ("", "ab")]
    assert responses[-1].additional_kwargs["total_tokens"] == 14
    assert events.names()[0] == "LLMCompletionStartEvent"
    assert events.names()[-1] == "LLMCompletionEndEvent"


def test_text_blocks_while_streaming_hold_the_text_so_far(server: MockServer) -> None:
    server.replies = [atoma_stream("x", "y")]
    blocks = [r.message.blocks for r in make_llm().stream_chat(HI)]
    assert blocks[1] == [TextBlock(text="xy")]


# -- async ----------------------------------------------------------------------------------


async def test_achat_and_acomplete(
    server: MockServer, events: Events, no_sync_client: None
) -> None:
    server.replies = [lambda _: json_reply(200, chat_completion("async ok", usage=USAGE))]
    llm = make_llm(context_window=None)  # the payload must not look the window up
    response = await llm.achat(HI)
    assert response.message.content == "async ok"
    assert response.additional_kwargs["total_tokens"] == 14
    assert (await llm.acomplete("p")).text == "async ok"
    assert events.names() == [
        "LLMChatStartEvent",
        "LLMChatEndEvent",
        "LLMCompletionStartEvent",
        "LLMCompletionEndEvent",
    ]


async def test_astream_chat_is_a_coroutine_returning_an_async_generator(
    server: MockServer, events: Events, no_sync_client: None
) -> None:
    assert inspect.iscoroutinefunction(AtomaChat.astream_chat)
    server.replies = [atoma_stream("a", "b")]
    tokens = counter()
    gen = await make_llm(callback_manager=CallbackManager([tokens])).astream_chat(HI)
    assert isinstance(gen, AsyncGenerator)
    responses = [r async for r in gen]
    assert [r.delta for r in responses] == ["a", "b", ""]
    assert responses[-1].message.content == "ab"
    assert events.names()[0] == "LLMChatStartEvent"
    assert events.names()[-1] == "LLMChatEndEvent"
    assert len(tokens.llm_token_counts) == 1
    assert tokens.total_llm_token_count == 14


async def test_async_tools_and_streamed_tool_calls(
    server: MockServer, no_sync_client: None
) -> None:
    server.replies = [
        json_reply(
            200, chat_completion(None, "tool_calls", tool_calls=[call("add", '{"a":2,"b":3}')])
        ),
        stream_reply(llama_cpp_tool_stream("add", ['{"a":2,', '"b":3}'])),
    ]
    llm = make_llm()
    result = await llm.apredict_and_call([ADD], user_msg="2 + 3?", tool_required=True)
    assert result.response == "5"
    gen = await llm.astream_chat_with_tools([ADD], user_msg="2 + 3?", tool_required=True)
    responses = [r async for r in gen]
    assert [s.tool_kwargs for s in llm.get_tool_calls_from_response(responses[-1])] == [
        {"a": 2, "b": 3}
    ]


async def test_async_errors_are_typed(server: MockServer, no_sync_client: None) -> None:
    server.replies = [json_reply(401, {"error": {"code": "AUTH_ERROR", "message": "no"}})]
    llm = make_llm()
    with pytest.raises(AuthenticationError):
        await llm.achat(HI)
    with pytest.raises(AuthenticationError):
        await llm.astream_chat(HI)


async def test_breaking_out_of_an_async_stream_closes_the_connection(server: MockServer) -> None:
    server.replies = [lambda _: atoma_stream("a", "b", "c")]
    gen = await make_llm().astream_chat(HI)
    async for _ in gen:
        break
    await gen.aclose()
    # LlamaIndex's wrapper does not close our generator itself; the event loop's
    # async-generator finalizer does, a few steps later.
    for _ in range(20):
        if server.streams[0].closed:
            break
        await asyncio.sleep(0)
    assert server.streams[0].closed


def test_one_object_works_across_event_loops(server: MockServer) -> None:
    server.replies = [lambda _: json_reply(200, chat_completion("again"))]
    llm = make_llm()
    assert asyncio.run(llm.achat(HI)).message.content == "again"
    assert asyncio.run(llm.achat(HI)).message.content == "again"

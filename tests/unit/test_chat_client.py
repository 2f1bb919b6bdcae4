"""``client.chat.completions``: what is sent, what is validated first, how answers are read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from atoma_integrations import (
    BadRequestError,
    ChatCompletion,
    InternalServerError,
    RateLimitError,
    StreamInterruptedError,
    _client,
)
from atoma_integrations._tools import resolve_tool_choice
from tests.support.mock_server import (
    MockServer,
    chat_chunk,
    chat_completion,
    json_reply,
    sse,
    stream_reply,
)

USER = [{"role": "user", "content": "Hi"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps, recorded instead of slept."""
    recorded: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_client, "_sleep", recorded.append)
    monkeypatch.setattr(_client, "_async_sleep", fake_async_sleep)
    return recorded


# --- what is sent ----------------------------------------------------------------------


def test_a_conversation_with_tools_is_sent_in_openai_shape() -> None:
    server = MockServer([json_reply(200, chat_completion())])
    server.client().chat.completions.create(
        model="m",
        messages=[
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
        ],
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
        response_format={"type": "json_object", "schema": {"type": "object"}},
        logprobs=True,
        top_logprobs=2,
        max_tokens=32,
        max_completion_tokens=32,
        temperature=0,
        top_p=0.5,
        n=1,
        stop="END",
        seed=7,
        logit_bias={5: 1},
        presence_penalty=0.1,
        frequency_penalty=0.2,
        user="u",
    )
    assert server.requests[0].url.path == "/v1/chat/completions"
    body = server.bodies[0]
    # llama.cpp rejects a null content; "" beside tool calls means the same everywhere.
    assert body["messages"][2] == {"role": "assistant", "content": "", "tool_calls": [CALL]}
    assert body["messages"][0]["content"] == [{"type": "text", "text": "Be brief."}]
    assert body["tools"] == [WEATHER]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["response_format"] == {"type": "json_object", "schema": {"type": "object"}}
    assert body["stop"] == ["END"]
    assert body["logit_bias"] == {"5": 1.0}
    assert {k: body[k] for k in ("logprobs", "top_logprobs", "parallel_tool_calls")} == {
        "logprobs": True,
        "top_logprobs": 2,
        "parallel_tool_calls": False,
    }
    assert "stream" not in body


def test_json_schema_response_format_is_sent_with_its_schema_key() -> None:
    server = MockServer([json_reply(200, chat_completion('{"a": 1}'))])
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    server.client().chat.completions.create(
        model="m",
        messages=USER,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema, "strict": True},
        },
    )
    assert server.bodies[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }


def test_stream_sends_stream_true_and_stream_options() -> None:
    server = MockServer([stream_reply([sse(chat_chunk("a", "stop"))])])
    with server.client().chat.completions.create_stream(
        model="m", messages=USER, stream_options={"include_usage": True}
    ) as stream:
        list(stream)
    assert server.bodies[0]["stream"] is True
    assert server.bodies[0]["stream_options"] == {"include_usage": True}


BAD_REQUESTS: list[tuple[dict[str, Any], str]] = [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "robot"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "tool_call_id"),
    ({"messages": [{"role": "user"}]}, "content"),
    ({"messages": [{"role": "assistant"}]}, "content or tool_calls"),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "input_audio"),
    ({"messages": USER, "tools": [WEATHER], "tool_choice": "maybe"}, "tool_choice"),
    (
        {
            "messages": USER,
            "tools": [WEATHER],
            "tool_choice": {"type": "function", "function": {"name": "get_time"}},
        },
        "get_time",
    ),
    ({"messages": USER, "tool_choice": "required"}, "needs tools"),
    ({"messages": USER, "tools": [{"type": "function", "function": {"name": "a b"}}]}, "name"),
    ({"messages": USER, "tools": [WEATHER, WEATHER]}, "unique"),
    ({"messages": USER, "response_format": {"type": "yaml"}}, "response_format"),
    ({"messages": USER, "top_logprobs": 3}, "logprobs=True"),
    ({"messages": USER, "stream_options": {"include_usage": True}}, "create_stream"),
    ({"messages": USER, "temperature": 3}, "temperature"),
    ({"messages": USER, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"messages": USER, "max_tokens": 0}, "max_tokens"),
    ({"messages": USER, "top_logprobs": 21, "logprobs": True}, "top_logprobs"),
    ({"messages": USER, "unknown_field": 1}, "unknown_field"),
]


@pytest.mark.parametrize(("params", "names"), BAD_REQUESTS)
def test_bad_input_fails_before_any_request_naming_the_field(
    params: dict[str, Any], names: str
) -> None:
    server = MockServer([json_reply(200, chat_completion())])
    client = server.client()
    with pytest.raises((ValidationError, TypeError), match=names):
        client.chat.completions.create(model="m", **params)
    if "stream_options" not in params:  # the one field that is right on a stream
        with pytest.raises((ValidationError, TypeError), match=names):
            client.chat.completions.create_stream(model="m", **params)
    assert server.requests == []


def test_stream_is_not_a_parameter() -> None:
    server = MockServer([json_reply(200, chat_completion())])
    with pytest.raises(TypeError, match=r"chat\.completions\.create_stream"):
        server.client().chat.completions.create(model="m", messages=USER, stream=True)  # type: ignore[call-arg]
    assert server.requests == []


# --- what is read ----------------------------------------------------------------------


def test_a_tool_call_answer_is_typed_and_keeps_atoma_extras() -> None:
    body = chat_completion(
        None, "tool_calls", tool_calls=[CALL], response_hash="h", signature="sig"
    )
    server = MockServer([json_reply(200, body)])
    result = server.client().chat.completions.create(model="m", messages=USER, tools=[WEATHER])
    assert isinstance(result, ChatCompletion)
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    call = (choice.message.tool_calls or [])[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_1",
        "get_weather",
        '{"city": "Paris"}',
    )
    assert result.usage is not None and result.usage.total_tokens == 5
    assert result.model_extra == {"response_hash": "h", "signature": "sig"}


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequestError), (429, RateLimitError), (500, InternalServerError)],
)
def test_status_errors_are_typed(status: int, error: type[Exception]) -> None:
    body = {"error": {"code": "E", "message": "no such model"}}
    server = MockServer([json_reply(status, body)])
    with pytest.raises(error, match=r"no such model") as info:
        server.client(max_retries=0).chat.completions.create(model="m", messages=USER)
    assert "/v1/chat/completions" in str(info.value)


def test_retries_before_the_answer(delays: list[float]) -> None:
    server = MockServer(
        [
            json_reply(503, {"error": "busy"}),
            httpx.ConnectError("refused"),
            json_reply(200, chat_completion("ok")),
        ]
    )
    result = server.client(max_retries=2).chat.completions.create(model="m", messages=USER)
    assert result.choices[0].message.content == "ok"
    assert len(server.requests) == 3 and len(delays) == 2


def test_a_stream_is_retried_before_its_first_event_never_after(delays: list[float]) -> None:
    server = MockServer(
        [
            json_reply(502, {"error": "bad gateway"}),
            stream_reply([sse(chat_chunk("par"))], fail_with=httpx.RemoteProtocolError("gone")),
            stream_reply([sse(chat_chunk("never", "stop"))]),
        ]
    )
    with pytest.raises(StreamInterruptedError) as info:
        with server.client(max_retries=5).chat.completions.create_stream(
            model="m", messages=USER
        ) as stream:
            list(stream)
    assert len(server.requests) == 2
    assert info.value.text == "par"


async def test_async_create_and_stream() -> None:
    server = MockServer(
        [
            json_reply(200, chat_completion("whole")),
            stream_reply([sse(chat_chunk("a", role="assistant"), chat_chunk("b", "stop"))]),
        ]
    )
    client = server.async_client()
    result = await client.chat.completions.create(model="m", messages=USER)
    assert result.choices[0].message.content == "whole"
    async with client.chat.completions.create_stream(model="m", messages=USER) as stream:
        deltas = [c.choices[0].delta.content async for c in stream]
    assert deltas == ["a", "b"]
    assert stream.message.content == "ab"
    assert server.streams[0].closed
    await client.aclose()


# --- the tool-choice rule both adapters share ------------------------------------------

OTHER = {"type": "function", "function": {"name": "get_time"}}
NAMED = {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(
    ("choice", "tools", "sent"),
    [
        ("any", [WEATHER], NAMED),
        ("required", [WEATHER], NAMED),
        (True, [WEATHER], NAMED),
        ("any", [WEATHER, OTHER], "required"),
        ("required", [WEATHER, OTHER], "required"),
        ("get_weather", [WEATHER, OTHER], NAMED),
        (NAMED, [WEATHER, OTHER], NAMED),
        ("auto", [WEATHER], "auto"),
        ("none", [WEATHER], "none"),
        (None, [WEATHER], None),
        (False, [WEATHER], None),
    ],
)
def test_tool_choice_rule(choice: Any, tools: list[dict[str, Any]], sent: Any) -> None:
    assert resolve_tool_choice(choice, tools) == sent


@pytest.mark.parametrize(
    ("choice", "tools", "match"),
    [
        ("get_time", [WEATHER], "get_time"),
        ("any", [], "at least one tool"),
        ({"type": "function"}, [WEATHER], "tool_choice as a dict"),
        (3, [WEATHER], "str, bool or dict"),
    ],
)
def test_tool_choice_rule_rejects(choice: Any, tools: list[dict[str, Any]], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        resolve_tool_choice(choice, tools)

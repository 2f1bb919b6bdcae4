"""``client.chat.completions`` against the real llama.cpp server (tiny model), sync and async.

The server's chat behaviour (scripts/local_server/README.md) decides what is asked: a
NAMED tool_choice and a json_object schema are grammar-constrained, so even the tiny model
answers them with valid JSON when every value is bounded; "required" and json_schema are
500s there (covered on mocks and the fault server instead).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from atoma_integrations import (
    AsyncAtomaClient,
    AtomaClient,
    ChatCompletionMessage,
    InternalServerError,
)
from atoma_integrations._tools import resolve_tool_choice

# Bounded values only: with a free string the tiny model never closes the JSON.
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "enum": ["Paris", "London"]},
        "days": {"type": "integer"},
    },
    "required": ["city", "days"],
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather forecast for a city",
        "parameters": WEATHER_SCHEMA,
    },
}
ASK = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": [{"type": "text", "text": "What is the weather in Paris?"}]},
]


def test_plain_chat_answers_with_usage(client: AtomaClient, server_chat_model: str) -> None:
    result = client.chat.completions.create(
        model=server_chat_model, messages=ASK, max_tokens=8, temperature=0
    )
    choice = result.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason == "length"
    assert result.usage is not None and result.usage.completion_tokens == 8


def test_stream_message_equals_the_whole_answer(
    client: AtomaClient, server_chat_model: str
) -> None:
    whole = client.chat.completions.create(
        model=server_chat_model, messages=ASK, max_tokens=12, temperature=0
    )
    with client.chat.completions.create_stream(
        model=server_chat_model,
        messages=ASK,
        max_tokens=12,
        temperature=0,
        stream_options={"include_usage": True},
    ) as stream:
        chunks = list(stream)
    assert all(chunk.choices for chunk in chunks)
    assert stream.message.content == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "length"
    assert stream.usage is None  # llama.cpp sends none in streams (Atoma always does)


def _weather_call(message: ChatCompletionMessage) -> dict[str, Any]:
    calls = message.tool_calls or []
    assert len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert calls[0].id
    arguments: dict[str, Any] = json.loads(calls[0].function.arguments)
    assert arguments["city"] in ("Paris", "London")
    assert isinstance(arguments["days"], int)
    return arguments


def test_named_tool_choice_returns_a_valid_tool_call_and_the_stream_merges_it(
    client: AtomaClient, server_chat_model: str
) -> None:
    # "required" with one tool becomes the named choice: what llama.cpp can answer.
    choice = resolve_tool_choice("required", [WEATHER])
    params: dict[str, Any] = {
        "model": server_chat_model,
        "messages": ASK,
        "tools": [WEATHER],
        "tool_choice": choice,
        "max_tokens": 100,
        "temperature": 0,
    }
    whole = client.chat.completions.create(**params)
    assert whole.choices[0].finish_reason == "tool_calls"
    arguments = _weather_call(whole.choices[0].message)

    with client.chat.completions.create_stream(**params) as stream:
        for _ in stream:
            pass
    # llama.cpp repeats id and name in every delta: merged once, arguments concatenated.
    assert _weather_call(stream.message) == arguments
    assert stream.message.content is None


def test_a_tool_result_conversation_is_accepted(
    client: AtomaClient, server_chat_model: str
) -> None:
    first = client.chat.completions.create(
        model=server_chat_model,
        messages=ASK,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=100,
        temperature=0,
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    followup = [
        *ASK,
        # content None beside tool calls is sent as "": llama.cpp rejects null.
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "content": '{"forecast": "sunny"}', "tool_call_id": call.id},
    ]
    result = client.chat.completions.create(
        model=server_chat_model, messages=followup, max_tokens=4, temperature=0
    )
    assert result.choices[0].message.content is not None


def test_json_object_with_a_schema_is_valid_json(
    client: AtomaClient, server_chat_model: str
) -> None:
    result = client.chat.completions.create(
        model=server_chat_model,
        messages=ASK,
        response_format={"type": "json_object", "schema": WEATHER_SCHEMA},
        max_tokens=100,
        temperature=0,
    )
    answer = json.loads(result.choices[0].message.content or "")
    assert answer["city"] in ("Paris", "London") and isinstance(answer["days"], int)


def test_json_schema_is_a_typed_server_error_here(
    client: AtomaClient, server_chat_model: str
) -> None:
    # llama-cpp-python 0.3.36 only knows json_object; Atoma's vLLM accepts json_schema.
    with pytest.raises(InternalServerError, match="json_object"):
        client.chat.completions.create(
            model=server_chat_model,
            messages=ASK,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA},
            },
            max_tokens=20,
        )


async def test_async_chat_stream_and_tool_call(
    async_client: AsyncAtomaClient, server_chat_model: str
) -> None:
    result = await async_client.chat.completions.create(
        model=server_chat_model, messages=ASK, max_tokens=6, temperature=0
    )
    async with async_client.chat.completions.create_stream(
        model=server_chat_model, messages=ASK, max_tokens=6, temperature=0
    ) as stream:
        pieces = [c.choices[0].delta.content or "" async for c in stream]
    assert "".join(pieces) == result.choices[0].message.content == stream.message.content

    async with async_client.chat.completions.create_stream(
        model=server_chat_model,
        messages=ASK,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=100,
        temperature=0,
    ) as tool_stream:
        async for _ in tool_stream:
            pass
    _weather_call(tool_stream.message)

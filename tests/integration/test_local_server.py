"""What the local llama.cpp server (scripts/local_server) does, checked with plain httpx.

Other tests rely on these behaviours of llama-cpp-python 0.3.36 with the tiny model:
chat under the completion id (chat format chatml-function-calling), grammar-constrained
named tool calls and json_object schemas, the quirks (500s, ignored fields, repeated ids
in streamed tool-call deltas), and embeddings under their own id, one vector per input.
Facts and timings: scripts/local_server/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

# Greedy text of the tiny model for this prompt and 16 tokens. Recorded from the server
# before chat and embeddings were added; it must not change (it did not, on this CPU).
TINY_PROMPT = "Once upon a time"
TINY_GREEDY_16 = "col thatndvCmemoageOnme)atCmemoC"

# Every value is bounded (enum, integer, boolean), so the grammar forces the JSON to
# close. With a free "string" the tiny model never writes the closing quote.
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "enum": ["Paris", "London"]},
        "days": {"type": "integer"},
        "metric": {"type": "boolean"},
    },
    "required": ["city", "days", "metric"],
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather forecast for a city",
            "parameters": WEATHER_SCHEMA,
        },
    }
]
NAMED = {"type": "function", "function": {"name": "get_weather"}}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def http(server_base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_base_url, timeout=60) as c:
        yield c


def post(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def stream_events(http: httpx.Client, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON events of an SSE response, checking that it ends with [DONE]."""
    events: list[dict[str, Any]] = []
    done = False
    with http.stream("POST", path, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                continue
            events.append(json.loads(line[len("data: ") :]))
    assert done
    return events


def assert_weather(arguments: dict[str, Any]) -> None:
    assert set(arguments) == {"city", "days", "metric"}
    assert arguments["city"] in ("Paris", "London")
    assert isinstance(arguments["days"], int)
    assert isinstance(arguments["metric"], bool)


def tiny_only(model: str) -> None:
    if model != "tiny-llama":
        pytest.skip("a fact about the tiny model")


# --- models and completions -------------------------------------------------------


def test_models_lists_every_id(
    http: httpx.Client, server_model: str, server_chat_model: str, server_embed_model: str
) -> None:
    response = http.get("/models")
    ids = {m["id"] for m in response.json()["data"]}
    assert {server_model, server_chat_model, server_embed_model} <= ids


def test_completion_greedy_text_is_unchanged(http: httpx.Client, server_model: str) -> None:
    tiny_only(server_model)
    body = {"model": server_model, "prompt": TINY_PROMPT, "max_tokens": 16, "temperature": 0}
    assert post(http, "/completions", body)["choices"][0]["text"] == TINY_GREEDY_16


def test_completion_is_the_same_after_the_embedding_model_was_loaded(
    http: httpx.Client, server_model: str, server_embed_model: str
) -> None:
    body = {"model": server_model, "prompt": TINY_PROMPT, "max_tokens": 16, "temperature": 0}
    before = post(http, "/completions", body)["choices"][0]["text"]
    post(http, "/embeddings", {"model": server_embed_model, "input": ["swap"]})
    assert post(http, "/completions", body)["choices"][0]["text"] == before


# --- chat ---------------------------------------------------------------------------


def test_plain_chat_answers_and_streams_the_same_text(
    http: httpx.Client, server_chat_model: str
) -> None:
    body = {
        "model": server_chat_model,
        "messages": [{"role": "system", "content": "Be brief."}, *ASK],
        "max_tokens": 12,
        "temperature": 0,
    }
    result = post(http, "/chat/completions", body)
    choice = result["choices"][0]
    assert result["object"] == "chat.completion"
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"]
    assert choice["finish_reason"] == "length"
    assert result["usage"]["completion_tokens"] == 12

    events = stream_events(
        http, "/chat/completions", {**body, "stream_options": {"include_usage": True}}
    )
    assert events[0]["choices"][0]["delta"] == {"role": "assistant"}
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert text == choice["message"]["content"]
    assert events[-1]["choices"][0]["finish_reason"] == "length"
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    assert not any(e.get("usage") for e in events)  # include_usage is ignored


def test_max_completion_tokens_is_ignored(http: httpx.Client, server_chat_model: str) -> None:
    """Only max_tokens limits a chat; without it the server writes until n_ctx is full."""
    tiny_only(server_chat_model)
    body = {"model": server_chat_model, "messages": ASK, "temperature": 0}
    full = post(http, "/chat/completions", {**body, "max_tokens": 16})
    stop = full["choices"][0]["message"]["content"][8:11]
    result = post(http, "/chat/completions", {**body, "max_completion_tokens": 2, "stop": [stop]})
    assert result["choices"][0]["finish_reason"] == "stop"  # not "length" after 2 tokens
    assert result["usage"]["completion_tokens"] > 2


def test_named_tool_choice_returns_a_parseable_tool_call(
    http: httpx.Client, server_chat_model: str
) -> None:
    body = {
        "model": server_chat_model,
        "messages": ASK,
        "tools": TOOLS,
        "tool_choice": NAMED,
        "max_tokens": 100,
        "temperature": 0,
    }
    choice = post(http, "/chat/completions", body)["choices"][0]
    message = choice["message"]
    assert choice["finish_reason"] == "tool_calls"
    assert message["content"] is None
    [call] = message["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert_weather(json.loads(call["function"]["arguments"]))
    assert message["function_call"] == call["function"]  # the legacy field, too


def test_named_tool_choice_streams_the_same_call_with_id_and_name_in_every_delta(
    http: httpx.Client, server_chat_model: str
) -> None:
    body = {
        "model": server_chat_model,
        "messages": ASK,
        "tools": TOOLS,
        "tool_choice": NAMED,
        "max_tokens": 100,
        "temperature": 0,
    }
    full = post(http, "/chat/completions", body)["choices"][0]["message"]["tool_calls"][0]
    events = stream_events(http, "/chat/completions", body)
    deltas = [e["choices"][0]["delta"] for e in events]
    assert deltas[0]["role"] == "assistant" and deltas[0]["tool_calls"] is None
    calls = [d["tool_calls"][0] for d in deltas if d.get("tool_calls")]
    assert len(calls) > 1
    # Unlike OpenAI, every delta repeats index, id, type and name; only arguments grow.
    assert {(c["index"], c["id"], c["type"], c["function"]["name"]) for c in calls} == {
        (0, calls[0]["id"], "function", "get_weather")
    }
    arguments = "".join(c["function"]["arguments"] for c in calls)
    assert arguments == full["function"]["arguments"]
    assert_weather(json.loads(arguments))
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert not any(e.get("usage") for e in events)


def test_tool_choice_required_is_a_500(http: httpx.Client, server_chat_model: str) -> None:
    body = {"model": server_chat_model, "messages": ASK, "tools": TOOLS, "max_tokens": 8}
    response = http.post("/chat/completions", json={**body, "tool_choice": "required"})
    assert response.status_code == 500
    assert response.json()["error"] == {
        "message": "",
        "type": "internal_server_error",
        "param": None,
        "code": None,
    }


def test_tool_choice_auto_gives_an_empty_message_on_the_tiny_model(
    http: httpx.Client, server_chat_model: str
) -> None:
    tiny_only(server_chat_model)
    body = {"model": server_chat_model, "messages": ASK, "tools": TOOLS, "max_tokens": 8}
    choice = post(http, "/chat/completions", {**body, "tool_choice": "auto"})["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": ""}
    assert choice["finish_reason"] == "stop"


def test_json_object_with_a_schema_returns_matching_json(
    http: httpx.Client, server_chat_model: str
) -> None:
    body = {
        "model": server_chat_model,
        "messages": ASK,
        "response_format": {"type": "json_object", "schema": WEATHER_SCHEMA},
        "max_tokens": 100,
        "temperature": 0,
    }
    choice = post(http, "/chat/completions", body)["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert_weather(json.loads(choice["message"]["content"]))


def test_json_schema_response_format_is_a_500(http: httpx.Client, server_chat_model: str) -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA},
    }
    body = {"model": server_chat_model, "messages": ASK, "response_format": response_format}
    response = http.post("/chat/completions", json=body)
    assert response.status_code == 500
    message = response.json()["error"]["message"]
    assert "Input should be 'text' or 'json_object'" in message


def test_assistant_message_with_null_content_is_a_500_and_empty_content_works(
    http: httpx.Client, server_chat_model: str
) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }

    def body(content: str | None) -> dict[str, Any]:
        history = [
            *ASK,
            {"role": "assistant", "content": content, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ]
        return {"model": server_chat_model, "messages": history, "max_tokens": 4}

    response = http.post("/chat/completions", json=body(None))
    assert response.status_code == 500
    error = response.json()["error"]["message"]
    assert "ChatCompletionRequestAssistantMessage', 'content')" in error
    assert post(http, "/chat/completions", body(""))["choices"][0]["message"]["content"]


# --- embeddings -----------------------------------------------------------------------


def test_embeddings_are_one_vector_per_input(http: httpx.Client, server_embed_model: str) -> None:
    inputs = ["hello", "hello world", "hello", ""]
    result = post(http, "/embeddings", {"model": server_embed_model, "input": inputs})
    assert result["object"] == "list"
    assert result["model"] == server_embed_model
    assert result["usage"]["prompt_tokens"] > 0
    data = result["data"]
    assert [d["index"] for d in data] == [0, 1, 2, 3]
    assert all(d["object"] == "embedding" for d in data)
    vectors = [d["embedding"] for d in data]
    dims = {len(v) for v in vectors}
    assert len(dims) == 1 and all(isinstance(x, float) for x in vectors[0])
    assert vectors[0] == vectors[2]  # identical inputs, identical vectors
    assert vectors[0] != vectors[1]

    single = post(http, "/embeddings", {"model": server_embed_model, "input": "hello"})
    assert [d["embedding"] for d in single["data"]] == [vectors[0]]  # same across calls


def test_tiny_embeddings_have_64_dimensions(http: httpx.Client, server_embed_model: str) -> None:
    if server_embed_model != "tiny-llama-embed":
        pytest.skip("a fact about the tiny model")
    result = post(http, "/embeddings", {"model": server_embed_model, "input": ["x"]})
    assert len(result["data"][0]["embedding"]) == 64


def test_embeddings_need_the_embedding_id(http: httpx.Client, server_model: str) -> None:
    response = http.post("/embeddings", json={"model": server_model, "input": ["x"]})
    assert response.status_code == 500
    assert "embedding=True" in response.json()["error"]["message"]

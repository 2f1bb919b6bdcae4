"""ChatAtoma on a mocked transport: what a LangChain user sees, point by point."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time
from collections.abc import Iterator
from functools import reduce
from typing import Any

import httpx
import pytest
import respx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import ModelInvalidRequestError, ModelRateLimitError
from langchain_core.load import dumps, loads
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field, ValidationError
from typing_extensions import TypedDict

from atoma_integrations import RateLimitError, StreamInterruptedError
from atoma_integrations.langchain import ChatAtoma
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
KEY = "sk-atoma-chat-secret-456"
USAGE = {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A scripted chat server behind respx (the adapter's clients are shared)."""
    mock = MockServer()
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(url__regex=r"^http://[a-z]+/v1/chat/completions$").mock(side_effect=mock.handle)
        yield mock


def make_chat(**kwargs: Any) -> ChatAtoma:
    kwargs.setdefault("model", "m")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    return ChatAtoma(**kwargs)


def atoma_chat_stream(*texts: str, usage: dict[str, Any] | None = USAGE) -> bytes:
    """As Atoma sends a chat stream: role first, text, finish, a usage chunk, no [DONE]."""
    events: list[dict[str, Any] | str] = [chat_chunk("", role="assistant")]
    events += [chat_chunk(t, response_hash=f"h{i}") for i, t in enumerate(texts)]
    events.append(chat_chunk(None, "stop", response_hash="h-final", signature="sig"))
    if usage is not None:
        events.append({"id": "chatcmpl-1", "choices": [], "usage": usage})
    return b": keep-alive\n\n" + sse(*events)


class GetWeather(BaseModel):
    """Weather forecast for a city."""

    city: str = Field(description="The city")


# --- invoke ----------------------------------------------------------------------------


def test_invoke_sends_the_conversation_and_returns_usage_and_metadata(
    server: MockServer,
) -> None:
    server.replies.append(
        json_reply(200, chat_completion("Bonjour", response_hash="h", signature="s"))
    )
    chat = make_chat(temperature=0.2, max_tokens=20, stop=["\n"], seed=3)
    result = chat.invoke(
        [("system", "Be brief."), ("human", "Hello in French?")], stop=["END"], top_p=0.5
    )
    assert isinstance(result, AIMessage)
    assert result.content == "Bonjour"
    assert result.usage_metadata == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    metadata = result.response_metadata
    assert metadata["finish_reason"] == "stop"
    assert metadata["model_name"] == "m"
    assert (metadata["response_hash"], metadata["signature"]) == ("h", "s")
    body = server.bodies[0]
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello in French?"},
    ]
    assert body["stop"] == ["END"]  # the call's stop replaces the field's
    assert (body["temperature"], body["max_tokens"], body["seed"], body["top_p"]) == (
        0.2,
        20,
        3,
        0.5,
    )
    assert "stream" not in body and "stream_options" not in body


def test_tool_history_is_sent_in_openai_shape(server: MockServer) -> None:
    server.replies.append(json_reply(200, chat_completion("It is sunny.")))
    history = [
        HumanMessage("Weather in Paris?"),
        AIMessage(
            "",
            tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
            invalid_tool_calls=[
                {"name": "get_time", "args": "{broken", "id": "call_2", "error": None}
            ],
        ),
        ToolMessage("sunny", tool_call_id="call_1"),
        ToolMessage("error: bad arguments", tool_call_id="call_2"),
    ]
    make_chat().invoke(history)
    messages = server.bodies[0]["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "",  # never null: llama.cpp rejects it
        "tool_calls": [
            {
                "type": "function",
                "id": "call_1",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            # A call with broken arguments stays in the history its tool message answers.
            {
                "type": "function",
                "id": "call_2",
                "function": {"name": "get_time", "arguments": "{broken"},
            },
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}


def test_tool_calls_are_parsed_and_bad_arguments_are_invalid_tool_calls(
    server: MockServer,
) -> None:
    bad = {"id": "call_2", "type": "function", "function": {"name": "f", "arguments": "{no"}}
    server.replies.append(
        json_reply(200, chat_completion(None, "tool_calls", tool_calls=[CALL, bad]))
    )
    result = make_chat().invoke("Weather in Paris?")
    assert result.content == ""
    assert result.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert len(result.invalid_tool_calls) == 1
    invalid = result.invalid_tool_calls[0]
    assert (invalid["name"], invalid["args"], invalid["id"]) == ("f", "{no", "call_2")
    assert invalid["error"]


def test_n_gives_one_generation_per_choice(server: MockServer) -> None:
    body = chat_completion("a")
    body["choices"].append(
        {"index": 1, "message": {"role": "assistant", "content": "b"}, "finish_reason": "stop"}
    )
    server.replies.append(json_reply(200, body))
    result = make_chat(n=2).generate([[HumanMessage("hi")]])
    assert [g.text for g in result.generations[0]] == ["a", "b"]
    assert result.llm_output is not None and result.llm_output["token_usage"]["total_tokens"] == 5


# --- stream ----------------------------------------------------------------------------


def test_stream_yields_text_then_a_final_chunk_with_usage_and_metadata(
    server: MockServer,
) -> None:
    server.replies.append(stream_reply([atoma_chat_stream("Hel", "lo")]))
    chunks = list(make_chat().stream("Hello"))
    assert [c.content for c in chunks] == ["Hel", "lo", ""]
    assert all(c.usage_metadata is None for c in chunks[:-1])
    final = chunks[-1]
    assert final.usage_metadata == {"input_tokens": 4, "output_tokens": 3, "total_tokens": 7}
    assert final.chunk_position == "last"
    merged = reduce(lambda a, b: a + b, chunks)
    assert merged.content == "Hello"
    # Per-answer metadata once, not concatenated over chunks; Atoma's final signature.
    assert merged.response_metadata["finish_reason"] == "stop"
    assert merged.response_metadata["model_name"] == "m"
    assert merged.response_metadata["response_hash"] == "h-final"
    assert merged.usage_metadata == final.usage_metadata
    assert server.bodies[0]["stream"] is True
    assert server.bodies[0]["stream_options"] == {"include_usage": True}


def test_stream_usage_false_does_not_ask_for_usage(server: MockServer) -> None:
    server.replies.append(stream_reply([atoma_chat_stream("x", usage=None)]))
    chunks = list(make_chat(stream_usage=False).stream("Hello"))
    assert "stream_options" not in server.bodies[0]
    assert chunks[-1].usage_metadata is None


def test_streamed_tool_calls_become_tool_call_chunks_then_tool_calls(
    server: MockServer,
) -> None:
    # llama.cpp style: id and name repeated in every piece; merged once by the core.
    pieces = ['{"ci', 'ty": ', '"Paris"}']
    events = [chat_chunk(role="assistant", content=None)]
    events += [
        chat_chunk(tool_calls=[tool_delta(0, p, call_id="call_1", name="get_weather")])
        for p in pieces
    ]
    events.append(chat_chunk(None, "tool_calls"))
    server.replies.append(stream_reply([sse(*events, done=True)]))
    chunks = list(make_chat().bind_tools([GetWeather]).stream("Weather?"))
    assert [c.tool_call_chunks[0]["args"] for c in chunks[:-1]] == pieces
    merged = reduce(lambda a, b: a + b, chunks)
    assert isinstance(merged, AIMessageChunk)
    assert merged.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert merged.response_metadata["finish_reason"] == "tool_calls"


def test_callbacks_get_each_token_before_it_is_yielded(server: MockServer) -> None:
    server.replies.append(stream_reply([atoma_chat_stream("a", "b")]))
    log: list[str] = []

    class Tokens(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            log.append(f"token:{token}")

    for chunk in make_chat().stream("hi", config={"callbacks": [Tokens()]}):
        log.append(f"yield:{chunk.content}")
    assert log[:4] == ["token:a", "yield:a", "token:b", "yield:b"]


def test_streaming_true_makes_invoke_stream_with_callbacks(server: MockServer) -> None:
    server.replies.append(stream_reply([atoma_chat_stream("a", "b")]))
    tokens: list[str] = []

    class Tokens(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            tokens.append(token)

    result = make_chat(streaming=True).invoke("hi", config={"callbacks": [Tokens()]})
    assert result.content == "ab"
    assert tokens[:2] == ["a", "b"]
    assert result.usage_metadata is not None and result.usage_metadata["total_tokens"] == 7


def test_an_interrupted_stream_is_a_typed_error_carrying_what_arrived(
    server: MockServer,
) -> None:
    server.replies.append(
        stream_reply([sse(chat_chunk("par"))], fail_with=httpx.RemoteProtocolError("gone"))
    )
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        for chunk in make_chat().stream("hi"):
            received.append(str(chunk.content))
    assert received == ["par"]
    assert info.value.text == "par"


async def test_async_invoke_and_stream(server: MockServer) -> None:
    server.replies += [
        json_reply(200, chat_completion("whole")),
        stream_reply([atoma_chat_stream("x", "y")]),
    ]
    chat = make_chat()
    assert (await chat.ainvoke("hi")).content == "whole"
    chunks = [c async for c in chat.astream("hi")]
    assert [c.content for c in chunks] == ["x", "y", ""]
    assert chunks[-1].usage_metadata is not None


def test_the_same_model_works_across_event_loops(server: MockServer) -> None:
    server.replies.append(json_reply(200, chat_completion("ok")))
    chat = make_chat()
    assert asyncio.run(chat.ainvoke("a")).content == "ok"
    assert asyncio.run(chat.ainvoke("b")).content == "ok"


# --- errors ----------------------------------------------------------------------------


def test_errors_are_the_cores_and_langchains(server: MockServer) -> None:
    server.replies.append(json_reply(429, {"error": {"code": "TOO_MANY", "message": "slow"}}))
    with pytest.raises(RateLimitError) as info:
        make_chat().invoke("hi")
    assert isinstance(info.value, ModelRateLimitError)


def test_bad_settings_fail_at_construction_naming_the_field() -> None:
    for bad, field in [
        ({"temperature": 3}, "temperature"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"model_kwargs": {"messages": []}}, "messages"),
        ({"streaming": True, "n": 2}, "n=1"),
        ({"model": ""}, "model"),
    ]:
        with pytest.raises(ValidationError, match=field):
            make_chat(**bad)


def test_bad_messages_fail_before_any_request(server: MockServer) -> None:
    from langchain_core.messages import ChatMessage

    # LangChain's typed error, not the raw pydantic one (its cause); more shapes in
    # test_chat_langchain_request_errors.py.
    with pytest.raises(ModelInvalidRequestError, match="robot") as info:
        make_chat().invoke([ChatMessage(role="robot", content="beep")])
    assert isinstance(info.value.__cause__, ValidationError)
    assert server.requests == []


# --- tools -----------------------------------------------------------------------------


@tool
def get_time(zone: str) -> str:
    """The time in a time zone."""
    return "noon"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.mark.parametrize(
    ("tools", "choice", "sent"),
    [
        ([GetWeather], "any", {"type": "function", "function": {"name": "GetWeather"}}),
        ([GetWeather], "required", {"type": "function", "function": {"name": "GetWeather"}}),
        ([GetWeather, get_time], "any", "required"),
        (
            [GetWeather, get_time],
            "get_time",
            {"type": "function", "function": {"name": "get_time"}},
        ),
        ([GetWeather, add], "auto", "auto"),
        ([GetWeather, add], "none", "none"),
        ([GetWeather, add], None, None),
    ],
)
def test_bind_tools_sends_tools_and_the_tool_choice(
    server: MockServer, tools: list[Any], choice: Any, sent: Any
) -> None:
    server.replies.append(json_reply(200, chat_completion("ok")))
    make_chat().bind_tools(tools, tool_choice=choice).invoke("hi")
    body = server.bodies[0]
    assert [t["function"]["name"] for t in body["tools"]] == [
        getattr(t, "name", getattr(t, "__name__", None)) for t in tools
    ]
    assert body.get("tool_choice") == sent


def test_bind_tools_accepts_dicts_and_parallel_tool_calls(server: MockServer) -> None:
    server.replies.append(json_reply(200, chat_completion("ok")))
    spec = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    make_chat().bind_tools([spec], parallel_tool_calls=False).invoke("hi")
    assert server.bodies[0]["tools"][0]["function"]["name"] == "lookup"
    assert server.bodies[0]["parallel_tool_calls"] is False


def test_bind_tools_rejects_an_unknown_tool_name_before_any_request(server: MockServer) -> None:
    with pytest.raises(ValueError, match="nope"):
        make_chat().bind_tools([GetWeather], tool_choice="nope")
    assert server.requests == []


# --- structured output -----------------------------------------------------------------


class City(BaseModel):
    """A city."""

    name: str
    country: str


class CityDict(TypedDict):
    """A city."""

    name: str
    country: str


SCHEMA_IDS = ["pydantic", "typeddict", "json"]
CITY_JSON = '{"name": "Paris", "country": "France"}'
CITY_SCHEMA = {
    "title": "City",
    "type": "object",
    "properties": {"name": {"type": "string"}, "country": {"type": "string"}},
    "required": ["name", "country"],
}
SCHEMAS = [City, CityDict, CITY_SCHEMA]


@pytest.mark.parametrize(
    "schema", [City, CityDict, CITY_SCHEMA], ids=["pydantic", "typeddict", "json"]
)
def test_json_schema_method_sends_response_format_and_parses(
    server: MockServer, schema: Any
) -> None:
    server.replies.append(json_reply(200, chat_completion(CITY_JSON)))
    result = make_chat().with_structured_output(schema, strict=True).invoke("Capital of France")
    expected = {"name": "Paris", "country": "France"}
    assert (result.model_dump() if isinstance(result, City) else result) == expected
    assert isinstance(result, City) == (schema is City)
    response_format = server.bodies[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == getattr(schema, "__name__", "City")
    assert response_format["json_schema"]["strict"] is True
    assert set(response_format["json_schema"]["schema"]["properties"]) == {"name", "country"}


@pytest.mark.parametrize(
    "schema", [City, CityDict, CITY_SCHEMA], ids=["pydantic", "typeddict", "json"]
)
def test_function_calling_method_forces_the_tool_and_parses(
    server: MockServer, schema: Any
) -> None:
    name = getattr(schema, "__name__", "City")
    call = {"id": "c", "type": "function", "function": {"name": name, "arguments": CITY_JSON}}
    server.replies.append(json_reply(200, chat_completion(None, "tool_calls", tool_calls=[call])))
    result = make_chat().with_structured_output(schema, method="function_calling").invoke("x")
    assert (result.model_dump() if isinstance(result, City) else result) == {
        "name": "Paris",
        "country": "France",
    }
    body = server.bodies[0]
    assert body["tool_choice"] == {"type": "function", "function": {"name": name}}
    assert body["tools"][0]["function"]["name"] == name


def test_json_mode_sends_json_object_with_the_schema_and_include_raw(
    server: MockServer,
) -> None:
    server.replies += [
        json_reply(200, chat_completion(CITY_JSON)),
        json_reply(200, chat_completion("not json")),
    ]
    chat = make_chat().with_structured_output(City, method="json_mode", include_raw=True)
    ok = chat.invoke("x")
    assert ok["parsed"] == City(name="Paris", country="France")
    assert ok["parsing_error"] is None and isinstance(ok["raw"], AIMessage)
    response_format = server.bodies[0]["response_format"]
    assert response_format["type"] == "json_object"
    assert set(response_format["schema"]["properties"]) == {"name", "country"}
    bad = chat.invoke("x")
    assert bad["parsed"] is None and bad["parsing_error"] is not None
    assert bad["raw"].content == "not json"


def test_structured_output_rejects_bad_arguments() -> None:
    chat = make_chat()
    with pytest.raises(ValueError, match="method"):
        chat.with_structured_output(City, method="yaml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a schema"):
        chat.with_structured_output(None, method="function_calling")


# --- batch, identity, secrets ----------------------------------------------------------


def test_batch_runs_at_most_max_concurrency_at_once(server: MockServer) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        # Hold each request until three are in flight (or a second passes), so the peak
        # does not depend on how fast a loaded machine starts the pool's threads.
        deadline = time.monotonic() + 1.0
        while peak < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        with lock:
            in_flight -= 1
        return json_reply(200, chat_completion("ok"))

    server.replies.append(slow)
    results = make_chat(max_concurrency=3).batch([f"q{i}" for i in range(9)])
    assert [r.content for r in results] == ["ok"] * 9
    assert peak == 3


async def test_abatch_is_bounded_too(server: MockServer) -> None:
    server.replies.append(json_reply(200, chat_completion("ok")))
    chat = make_chat(max_concurrency=2)
    results = await chat.abatch(["a", "b", "c"], config={"max_concurrency": 5})
    assert [r.content for r in results] == ["ok"] * 3  # the caller's setting wins


def test_identity_tracing_and_secrets() -> None:
    chat = make_chat(api_key=KEY, temperature=0.5, stop=["x"])
    assert chat._llm_type == "atoma-chat"
    assert chat._identifying_params["temperature"] == 0.5
    assert KEY not in str(chat._identifying_params)
    params = chat._get_ls_params(model="other")
    assert params["ls_provider"] == "atoma"
    assert params["ls_model_name"] == "other"
    assert params["ls_model_type"] == "chat"
    assert params["ls_stop"] == ["x"]
    for text in (repr(chat), str(chat), dumps(chat)):
        assert KEY not in text
    assert "ATOMA_API_KEY" in dumps(chat)
    copy = pickle.loads(pickle.dumps(chat))
    assert copy.api_key is not None and copy.api_key.get_secret_value() == KEY


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_dumps_round_trips_when_the_class_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", KEY)
    chat = make_chat(api_key=KEY, temperature=0.3, model_kwargs={"top_k": 5})
    revived = loads(
        dumps(chat),
        valid_namespaces=["atoma_integrations"],
        allowed_objects=[ChatAtoma],
        secrets_from_env=True,
    )
    assert isinstance(revived, ChatAtoma)
    assert (revived.model, revived.temperature, revived.model_kwargs) == ("m", 0.3, {"top_k": 5})
    assert revived.api_key is not None and revived.api_key.get_secret_value() == KEY


def test_importable_from_the_langchain_package() -> None:
    import atoma_integrations.langchain as package

    assert package.ChatAtoma is ChatAtoma

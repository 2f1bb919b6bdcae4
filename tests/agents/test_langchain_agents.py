"""ChatAtoma in LangChain's agents: ``create_agent`` (langchain 1.x) and LangGraph's prebuilt
ReAct agent, over the scripted server (``tests/support/scripted_server.py``).

Why not the real local server: the tiny llama.cpp model neither reasons nor chooses a tool
on its own (llama.cpp leaves the tools out of the prompt without a ``tool_choice``, and its
"auto" choice fails in streams), so it cannot drive a three-call loop. The scripted server
plays what a reasoning model behind Atoma sends, and checks every request the agent makes:
tool results answering the previous turn's calls, no reasoning sent back unless asked, no
empty ``tools``, valid message shapes. ``test_real_server_agent.py`` runs the one tool step
the tiny model can.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from pydantic import BaseModel

from atoma_integrations.langchain import ChatAtoma
from tests.agents._weather import (
    ANSWER,
    CONVERT,
    LOOKUP,
    MODEL,
    QUESTION,
    THINK_ANSWER,
    THINK_CONVERT,
    THINK_LOOKUP,
    TOOLS,
    WEATHER,
    WEATHER_LOOP,
)
from tests.support.scripted_server import Play, ScriptedServer, ScriptedToolCall, Turn

INPUT = {"messages": [{"role": "user", "content": QUESTION}]}


class WeatherReport(BaseModel):
    """The weather in a city."""

    city: str
    sky: str
    fahrenheit: float


REPORT = {"city": "Paris", "sky": "sunny", "fahrenheit": 69.8}

# create_agent with a response_format: the last step calls the schema's tool (ToolStrategy,
# since the profile says native structured output cannot go beside tools on Atoma).
STRUCTURED_LOOP: Sequence[Turn] = (
    *WEATHER_LOOP[:2],
    Turn(
        reasoning=THINK_ANSWER,
        tool_calls=(ScriptedToolCall("call_report_3", "WeatherReport", REPORT),),
    ),
)

# LangGraph's create_react_agent with a response_format: the loop answers, then one more
# call asks for the answer in the schema (with_structured_output, no tools).
REACT_STRUCTURED_LOOP: Sequence[Turn] = (*WEATHER_LOOP, Turn(content=json.dumps(REPORT)))


def chat(server: ScriptedServer, **kwargs: Any) -> ChatAtoma:
    return ChatAtoma(
        model=MODEL, base_url=server.url, api_key="sk-scripted", max_retries=0, **kwargs
    )


def react_agent(model: ChatAtoma, **kwargs: Any) -> Any:
    # Deprecated in favour of create_agent since LangGraph 1.0, still what many users run.
    from langgraph.prebuilt import create_react_agent
    from langgraph.warnings import LangGraphDeprecatedSinceV10

    with pytest.warns(LangGraphDeprecatedSinceV10):
        return create_react_agent(model, list(TOOLS), **kwargs)


def assert_weather_loop(messages: Sequence[BaseMessage]) -> None:
    """The history of the loop: question, two tool steps answered in order, the answer."""
    ai = [m for m in messages if isinstance(m, AIMessage)]
    tools = [m for m in messages if isinstance(m, ToolMessage)]
    assert [[c["id"] for c in m.tool_calls] for m in ai] == [[LOOKUP.id], [CONVERT.id], []]
    assert [c["args"] for m in ai for c in m.tool_calls] == [LOOKUP.arguments, CONVERT.arguments]
    assert [(t.tool_call_id, t.text) for t in tools] == [(LOOKUP.id, WEATHER), (CONVERT.id, "69.8")]
    assert ai[-1].text == ANSWER


def assert_tools_offered(server: ScriptedServer, names: set[str]) -> None:
    for body in server.requests:
        assert {t["function"]["name"] for t in body["tools"]} == names


# -- create_agent -----------------------------------------------------------------------------


def test_create_agent_runs_the_loop(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = create_agent(chat(server), tools=list(TOOLS))
    with server.checked():
        result = agent.invoke(INPUT)
    assert_weather_loop(result["messages"])
    assert_tools_offered(server, {"get_weather", "to_fahrenheit"})


async def test_create_agent_runs_the_loop_async(play: Play) -> None:
    server = play(WEATHER_LOOP, reasoning_field="reasoning")
    agent = create_agent(chat(server), tools=list(TOOLS))
    with server.checked():
        result = await agent.ainvoke(INPUT)
    assert_weather_loop(result["messages"])


def test_create_agent_keeps_each_steps_reasoning_and_does_not_send_it_back(play: Play) -> None:
    server = play(WEATHER_LOOP, reasoning_field="both")
    agent = create_agent(chat(server), tools=list(TOOLS))
    with server.checked():
        result = agent.invoke(INPUT)
    ai = [m for m in result["messages"] if isinstance(m, AIMessage)]
    assert [m.additional_kwargs.get("reasoning_content") for m in ai] == [
        THINK_LOOKUP,
        THINK_CONVERT,
        THINK_ANSWER,
    ]


def test_create_agent_sends_reasoning_back_when_asked(play: Play) -> None:
    # gpt-oss tool loops: vLLM takes the assistant's own reasoning back as "reasoning".
    server = play(WEATHER_LOOP, reasoning_in_history=True)
    agent = create_agent(chat(server, send_reasoning=True), tools=list(TOOLS))
    with server.checked():
        result = agent.invoke(INPUT)
    assert_weather_loop(result["messages"])
    assert [
        m.get("reasoning") for m in server.requests[2]["messages"] if m["role"] == "assistant"
    ] == [
        THINK_LOOKUP,
        THINK_CONVERT,
    ]


@pytest.mark.parametrize("done_marker", [True, False], ids=["done", "no-done"])
def test_create_agent_streams_messages(play: Play, done_marker: bool) -> None:
    server = play(WEATHER_LOOP, done_marker=done_marker)
    agent = create_agent(chat(server), tools=list(TOOLS))
    with server.checked():
        pieces = list(agent.stream(INPUT, stream_mode="messages"))
    assert all(body["stream"] is True for body in server.requests)
    model_chunks = [m for m, meta in pieces if isinstance(m, AIMessageChunk)]
    tool_results = [m for m, _ in pieces if isinstance(m, ToolMessage)]
    calls = [c for m in model_chunks for c in m.tool_call_chunks]
    assert [c["id"] for c in calls if c["id"]] == [LOOKUP.id, CONVERT.id]
    assert "".join(m.text for m in model_chunks) == ANSWER
    assert [t.tool_call_id for t in tool_results] == [LOOKUP.id, CONVERT.id]


def test_create_agent_streams_reasoning_as_it_comes(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = create_agent(chat(server), tools=list(TOOLS))
    with server.checked():
        pieces = list(agent.stream(INPUT, stream_mode="messages"))
    thought = "".join(
        m.additional_kwargs.get("reasoning_content", "")
        for m, _ in pieces
        if isinstance(m, AIMessageChunk)
    )
    assert thought == THINK_LOOKUP + THINK_CONVERT + THINK_ANSWER


async def test_create_agent_streams_messages_async(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = create_agent(chat(server), tools=list(TOOLS))
    with server.checked():
        pieces = [p async for p in agent.astream(INPUT, stream_mode="messages")]
    text = "".join(m.text for m, _ in pieces if isinstance(m, AIMessageChunk))
    assert text == ANSWER


def test_create_agent_with_output_version_v1(play: Play) -> None:
    # v1 messages carry reasoning and tool calls as content blocks; sent back as history,
    # they must become text content plus tool_calls.
    server = play(WEATHER_LOOP)
    agent = create_agent(chat(server, output_version="v1"), tools=list(TOOLS))
    with server.checked():
        result = agent.invoke(INPUT)
    assert_weather_loop(result["messages"])
    first = next(m for m in result["messages"] if isinstance(m, AIMessage))
    assert [b["type"] for b in first.content_blocks] == ["reasoning", "tool_call"]


def test_create_agent_streams_messages_with_output_version_v1(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = create_agent(chat(server, output_version="v1"), tools=list(TOOLS))
    with server.checked():
        pieces = list(agent.stream(INPUT, stream_mode="messages"))
    assert "".join(m.text for m, _ in pieces if isinstance(m, AIMessageChunk)) == ANSWER


async def test_create_agent_with_output_version_v1_async(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = create_agent(chat(server, output_version="v1"), tools=list(TOOLS))
    with server.checked():
        result = await agent.ainvoke(INPUT)
    assert_weather_loop(result["messages"])


def test_create_agent_response_format_uses_a_tool_beside_the_agents_tools(play: Play) -> None:
    server = play(STRUCTURED_LOOP)
    agent = create_agent(chat(server), tools=list(TOOLS), response_format=WeatherReport)
    with server.checked():
        result = agent.invoke(INPUT)
    assert result["structured_response"] == WeatherReport(**REPORT)
    # The profile says no native structured output: no json_schema beside the tools.
    assert all("response_format" not in body for body in server.requests)
    assert_tools_offered(server, {"get_weather", "to_fahrenheit", "WeatherReport"})


async def test_create_agent_response_format_async(play: Play) -> None:
    server = play(STRUCTURED_LOOP)
    agent = create_agent(chat(server), tools=list(TOOLS), response_format=WeatherReport)
    with server.checked():
        result = await agent.ainvoke(INPUT)
    assert result["structured_response"] == WeatherReport(**REPORT)


def test_create_agent_response_format_without_tools_sends_no_empty_tools(play: Play) -> None:
    # No agent tools: create_agent binds only the schema's tool, or none at all for a
    # provider strategy (bind_tools([])); an empty "tools" list is refused.
    server = play([Turn(tool_calls=(ScriptedToolCall("call_report_1", "WeatherReport", REPORT),))])
    agent = create_agent(chat(server), tools=[], response_format=WeatherReport)
    with server.checked():
        result = agent.invoke(INPUT)
    assert result["structured_response"] == WeatherReport(**REPORT)


def test_provider_strategy_without_tools_sends_no_tools(play: Play) -> None:
    from langchain.agents.structured_output import ProviderStrategy

    server = play([Turn(content=json.dumps(REPORT))])
    agent = create_agent(chat(server), tools=[], response_format=ProviderStrategy(WeatherReport))
    with server.checked():
        result = agent.invoke(INPUT)
    assert result["structured_response"] == WeatherReport(**REPORT)
    assert "tools" not in server.requests[0]
    assert server.requests[0]["response_format"]["type"] == "json_schema"


# -- LangGraph's prebuilt ReAct agent ---------------------------------------------------------


def test_react_agent_runs_the_loop(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = react_agent(chat(server))
    with server.checked():
        result = agent.invoke(INPUT)
    assert_weather_loop(result["messages"])


async def test_react_agent_runs_the_loop_async(play: Play) -> None:
    server = play(WEATHER_LOOP, reasoning_field="reasoning")
    agent = react_agent(chat(server))
    with server.checked():
        result = await agent.ainvoke(INPUT)
    assert_weather_loop(result["messages"])


def test_react_agent_streams_messages(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = react_agent(chat(server))
    with server.checked():
        pieces = list(agent.stream(INPUT, stream_mode="messages"))
    assert "".join(m.text for m, _ in pieces if isinstance(m, AIMessageChunk)) == ANSWER


async def test_react_agent_streams_messages_async(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = react_agent(chat(server))
    with server.checked():
        pieces = [p async for p in agent.astream(INPUT, stream_mode="messages")]
    assert "".join(m.text for m, _ in pieces if isinstance(m, AIMessageChunk)) == ANSWER


def test_react_agent_with_output_version_v1(play: Play) -> None:
    server = play(WEATHER_LOOP)
    agent = react_agent(chat(server, output_version="v1"))
    with server.checked():
        result = agent.invoke(INPUT)
    assert_weather_loop(result["messages"])


def test_react_agent_response_format(play: Play) -> None:
    server = play(REACT_STRUCTURED_LOOP)
    agent = react_agent(chat(server), response_format=WeatherReport)
    with server.checked():
        result = agent.invoke(INPUT)
    assert result["structured_response"] == WeatherReport(**REPORT)
    last = server.requests[-1]
    assert "tools" not in last and last["response_format"]["type"] == "json_schema"


async def test_react_agent_response_format_async(play: Play) -> None:
    server = play(REACT_STRUCTURED_LOOP)
    agent = react_agent(chat(server), response_format=WeatherReport)
    with server.checked():
        result = await agent.ainvoke(INPUT)
    assert result["structured_response"] == WeatherReport(**REPORT)


# -- the server's checks catch what a strict server refuses -----------------------------------


def test_a_violation_fails_the_agent_run_with_its_message(play: Play) -> None:
    # A history with a tool result that answers no call: the server refuses it (400), and
    # the test sees why.
    server = play(WEATHER_LOOP[:1])
    model = chat(server).bind_tools(list(TOOLS))
    history = [
        {"role": "user", "content": QUESTION},
        ToolMessage("sunny", tool_call_id="call_nobody_made"),
    ]
    with pytest.raises(AssertionError, match="call_nobody_made"), server.checked():
        model.invoke(history)


# -- middleware sized from the profile ---------------------------------------------------------


def test_summarization_middleware_takes_its_window_from_the_profile() -> None:
    from langchain.agents.middleware import SummarizationMiddleware

    documented = ChatAtoma(model=MODEL, api_key="sk-scripted")
    SummarizationMiddleware(model=documented, trigger=("fraction", 0.8))
    own = ChatAtoma(model="my-deployment", api_key="sk-scripted")
    with pytest.raises(ValueError, match="profile"):
        SummarizationMiddleware(model=own, trigger=("fraction", 0.8))
    sized = ChatAtoma(
        model="my-deployment", api_key="sk-scripted", profile={"max_input_tokens": 8192}
    )
    SummarizationMiddleware(model=sized, trigger=("fraction", 0.8))

"""AtomaChat in LlamaIndex's agents: ``FunctionAgent``, ``ReActAgent`` and a two-agent
``AgentWorkflow`` with a handoff, over the scripted server, streaming their events.

LlamaIndex's agents are workflows, async only; each runs here streamed (the default) and
whole (``streaming=False``) where the agent has the switch. The scripted server stands in
for a reasoning model, for the reasons ``test_langchain_agents.py`` gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from llama_index.core.agent.workflow import (
    AgentOutput,
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ReActAgent,
    ToolCallResult,
)
from llama_index.core.base.llms.types import ThinkingBlock
from llama_index.core.workflow import Event

from atoma_integrations.llama_index import AtomaChat
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
    get_weather,
    to_fahrenheit,
)
from tests.support.scripted_server import Play, ScriptedServer, ScriptedToolCall, Turn

HANDOFF = ScriptedToolCall(
    "call_handoff_2", "handoff", {"to_agent": "units", "reason": "Convert 21 °C to Fahrenheit."}
)
CONVERT_AFTER_HANDOFF = ScriptedToolCall("call_convert_3", "to_fahrenheit", {"celsius": 21})

# The weather agent looks the weather up and hands off; the units agent converts, answers.
HANDOFF_LOOP: Sequence[Turn] = (
    Turn(reasoning=THINK_LOOKUP, tool_calls=(LOOKUP,)),
    Turn(reasoning="Converting is the units agent's job.", tool_calls=(HANDOFF,)),
    Turn(reasoning=THINK_CONVERT, tool_calls=(CONVERT_AFTER_HANDOFF,)),
    Turn(reasoning=THINK_ANSWER, content=ANSWER),
)

# ReAct speaks its protocol in the text: no tools on the wire.
REACT_LOOP: Sequence[Turn] = (
    Turn(
        content="Thought: I need the weather first.\nAction: get_weather\n"
        'Action Input: {"city": "Paris"}'
    ),
    Turn(
        content="Thought: Now I convert 21 °C.\nAction: to_fahrenheit\n"
        'Action Input: {"celsius": 21}'
    ),
    Turn(content=f"Thought: I can answer without using any more tools.\nAnswer: {ANSWER}"),
)


def llm(server: ScriptedServer, **kwargs: Any) -> AtomaChat:
    return AtomaChat(
        model=MODEL, base_url=server.url, api_key="sk-scripted", max_retries=0, **kwargs
    )


async def run(agent: Any) -> tuple[Any, list[Event]]:
    """The agent's answer to the question, and every event it streamed on the way."""
    handler = agent.run(user_msg=QUESTION)
    events = [event async for event in handler.stream_events()]
    return await handler, events


def tool_results(events: Sequence[Event]) -> list[tuple[str, str, str]]:
    return [
        (e.tool_name, e.tool_id, str(e.tool_output.content))
        for e in events
        if isinstance(e, ToolCallResult)
    ]


# -- FunctionAgent ----------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False], ids=["streamed", "whole"])
async def test_function_agent_runs_the_loop(play: Play, streaming: bool) -> None:
    server = play(WEATHER_LOOP)
    agent = FunctionAgent(tools=list(TOOLS), llm=llm(server), streaming=streaming)
    with server.checked():
        result, events = await run(agent)
    assert isinstance(result, AgentOutput)
    assert result.response.content == ANSWER
    assert tool_results(events) == [
        ("get_weather", LOOKUP.id, WEATHER),
        ("to_fahrenheit", CONVERT.id, "69.8"),
    ]
    assert all(body.get("stream", False) is streaming for body in server.requests)
    if streaming:
        assert "".join(e.delta for e in events if isinstance(e, AgentStream)) == ANSWER


async def test_function_agent_streams_each_steps_thinking(play: Play) -> None:
    server = play(WEATHER_LOOP, reasoning_field="reasoning")
    agent = FunctionAgent(tools=list(TOOLS), llm=llm(server))
    with server.checked():
        result, events = await run(agent)
    thinking = "".join(e.thinking_delta or "" for e in events if isinstance(e, AgentStream))
    assert thinking == THINK_LOOKUP + THINK_CONVERT + THINK_ANSWER
    blocks = [b for b in result.response.blocks if isinstance(b, ThinkingBlock)]
    assert [b.content for b in blocks] == [THINK_ANSWER]


async def test_function_agent_sends_reasoning_back_when_asked(play: Play) -> None:
    server = play(WEATHER_LOOP, reasoning_in_history=True)
    agent = FunctionAgent(tools=list(TOOLS), llm=llm(server, send_reasoning=True))
    with server.checked():
        result, _ = await run(agent)
    assert result.response.content == ANSWER


# -- ReActAgent -------------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False], ids=["streamed", "whole"])
async def test_react_agent_runs_the_loop(play: Play, streaming: bool) -> None:
    server = play(REACT_LOOP, done_marker=True)
    agent = ReActAgent(tools=list(TOOLS), llm=llm(server), streaming=streaming)
    with server.checked():
        result, events = await run(agent)
    assert result.response.content == ANSWER
    assert [(name, output) for name, _, output in tool_results(events)] == [
        ("get_weather", WEATHER),
        ("to_fahrenheit", "69.8"),
    ]
    assert all("tools" not in body for body in server.requests)
    if streaming:
        assert any(isinstance(e, AgentStream) and e.delta for e in events)


# -- AgentWorkflow with a handoff -------------------------------------------------------------


async def test_agent_workflow_hands_off_between_two_agents(play: Play) -> None:
    server = play(HANDOFF_LOOP, reasoning_field="both")
    weather = FunctionAgent(
        name="weather",
        description="Looks up the weather in a city.",
        tools=[get_weather],
        llm=llm(server),
        can_handoff_to=["units"],
    )
    units = FunctionAgent(
        name="units",
        description="Converts temperatures between units.",
        tools=[to_fahrenheit],
        llm=llm(server),
    )
    workflow = AgentWorkflow(agents=[weather, units], root_agent="weather")
    with server.checked():
        result, events = await run(workflow)
    assert result.response.content == ANSWER
    assert result.current_agent_name == "units"
    assert [(name, call_id) for name, call_id, _ in tool_results(events)] == [
        ("get_weather", LOOKUP.id),
        ("handoff", HANDOFF.id),
        ("to_fahrenheit", CONVERT_AFTER_HANDOFF.id),
    ]
    offered = [sorted(t["function"]["name"] for t in body["tools"]) for body in server.requests]
    assert offered == [
        ["get_weather", "handoff"],
        ["get_weather", "handoff"],
        ["handoff", "to_fahrenheit"],  # it may hand back: can_handoff_to defaults to all
        ["handoff", "to_fahrenheit"],
    ]
    streamed_by = {e.current_agent_name for e in events if isinstance(e, AgentStream) and e.delta}
    assert streamed_by == {"units"}

"""One agent step on the real llama.cpp server: a tool call with a named choice, then the answer.

This is as much of a loop as the tiny test model can drive. The server honours a named
``tool_choice`` (its grammar forces the call), but without one it leaves the tools out of
the prompt, and its "auto" choice fails in streams: so the first model call names the
tool, the second has no choice and answers in text, and the runs are not streamed. The
longer loops, with reasoning and streaming, are in the scripted-server tests beside this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import ModelRequest, ModelResponse, wrap_model_call
from langchain_core.messages import AIMessage, ToolMessage
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import MessageRole

from atoma_integrations.langchain import ChatAtoma
from atoma_integrations.llama_index import AtomaChat

pytestmark = pytest.mark.integration

QUESTION = "What is 7 squared?"
SQUARED: list[int] = []


def square(x: int) -> int:
    """The square of an integer."""
    SQUARED.append(x)
    return x * x


def _choice(request: ModelRequest) -> str | None:
    """Name the tool until it has run once; then let the model answer."""
    answered = any(isinstance(m, ToolMessage) for m in request.messages)
    return None if answered else "square"


@wrap_model_call
def square_first(
    request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
) -> ModelResponse:
    return handler(request.override(tool_choice=_choice(request)))


@wrap_model_call
async def asquare_first(
    request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
) -> ModelResponse:
    return await handler(request.override(tool_choice=_choice(request)))


@pytest.fixture
def chat(server_base_url: str, server_chat_model: str) -> ChatAtoma:
    return ChatAtoma(
        model=server_chat_model,
        base_url=server_base_url,
        temperature=0,
        max_tokens=24,
        max_retries=0,
    )


def assert_one_tool_step(messages: list[object]) -> None:
    first, *_, last = [m for m in messages if isinstance(m, AIMessage)]
    (call,) = first.tool_calls
    assert call["name"] == "square" and isinstance(call["args"]["x"], int)
    (result,) = [m for m in messages if isinstance(m, ToolMessage)]
    assert result.tool_call_id == call["id"]
    assert result.text == str(call["args"]["x"] ** 2)
    assert not last.tool_calls
    assert last.response_metadata["finish_reason"] in ("stop", "length")


def test_create_agent_one_tool_step_then_the_answer(chat: ChatAtoma) -> None:
    agent = create_agent(chat, tools=[square], middleware=[square_first])
    result = agent.invoke({"messages": [{"role": "user", "content": QUESTION}]})
    assert_one_tool_step(result["messages"])


async def test_create_agent_one_tool_step_then_the_answer_async(chat: ChatAtoma) -> None:
    agent = create_agent(chat, tools=[square], middleware=[asquare_first])
    result = await agent.ainvoke({"messages": [{"role": "user", "content": QUESTION}]})
    assert_one_tool_step(result["messages"])


async def test_function_agent_one_tool_step_then_the_answer(
    server_base_url: str, server_chat_model: str
) -> None:
    llm = AtomaChat(model=server_chat_model, base_url=server_base_url, max_tokens=24, max_retries=0)
    SQUARED.clear()
    agent = FunctionAgent(tools=[square], llm=llm, initial_tool_choice="square", streaming=False)
    handler = agent.run(QUESTION)
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    output = await handler
    assert [r.tool_name for r in results] == ["square"]
    assert results[0].tool_output.content == str(SQUARED[0] ** 2)
    # The run's tool steps are that one: the second model call answered.
    assert output.tool_calls == results
    assert output.response.role == MessageRole.ASSISTANT

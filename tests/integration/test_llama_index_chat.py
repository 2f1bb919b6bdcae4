"""AtomaChat (LlamaIndex) against the real llama.cpp server: chat, tools, structure, agents.

What the test server can answer (scripts/local_server/README.md): a NAMED tool choice is
grammar-constrained, so even the tiny model returns a valid call (given max_tokens enough to
close the JSON); "required" is a 500 and "auto" returns text. So every tool test here forces
one tool: ``tool_required`` with a single tool (sent as the named choice) or a tool name.
The tiny model's argument values are nonsense but valid JSON of the schema's types; the
tests check shapes and plumbing, not arithmetic. Integer and enum fields keep the calls
short (a string field lets the tiny model ramble until max_tokens).
"""

from __future__ import annotations

from typing import Literal

import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from atoma_integrations import ChatCompletion
from atoma_integrations.llama_index import AtomaChat

HI = [ChatMessage(role="user", content="Say hello.")]
CALLS: list[tuple[int, int]] = []


def add(a: int, b: int) -> int:
    """Add two integers."""
    CALLS.append((a, b))
    return a + b


ADD = FunctionTool.from_defaults(add)


class Verdict(BaseModel):
    """A verdict about a statement."""

    answer: Literal["yes", "no"]
    confidence: int


@pytest.fixture
def llm(server_base_url: str, server_chat_model: str) -> AtomaChat:
    return AtomaChat(
        model=server_chat_model,
        base_url=server_base_url,
        max_tokens=64,
        temperature=0,
        max_retries=0,
        context_window=2048,
    )


def test_chat_and_stream_chat_agree(llm: AtomaChat) -> None:
    whole = llm.chat(HI, max_tokens=8)
    assert isinstance(whole.raw, ChatCompletion)
    assert whole.message.content
    assert whole.additional_kwargs["finish_reason"] in ("stop", "length")
    assert whole.additional_kwargs["completion_tokens"] > 0
    streamed = list(llm.stream_chat(HI, max_tokens=8))
    assert "".join(r.delta or "" for r in streamed) == whole.message.content
    assert streamed[-1].message.content == whole.message.content
    assert (
        streamed[-1].additional_kwargs["finish_reason"] == whole.additional_kwargs["finish_reason"]
    )


async def test_achat_and_astream_chat_agree(llm: AtomaChat) -> None:
    whole = await llm.achat(HI, max_tokens=8)
    gen = await llm.astream_chat(HI, max_tokens=8)
    streamed = [r async for r in gen]
    assert streamed[-1].message.content == whole.message.content


def test_complete_goes_through_chat_and_counts_the_servers_tokens(
    server_base_url: str, server_chat_model: str
) -> None:
    tokens = TokenCountingHandler(tokenizer=lambda text: text.split())
    llm = AtomaChat(
        model=server_chat_model,
        base_url=server_base_url,
        max_tokens=6,
        temperature=0,
        max_retries=0,
        context_window=2048,
        callback_manager=CallbackManager([tokens]),
    )
    response = llm.complete("Say hello.")
    usage = response.raw.usage
    assert usage is not None
    assert (tokens.prompt_llm_token_count, tokens.completion_llm_token_count) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )


def test_chat_with_tools_and_get_tool_calls(llm: AtomaChat) -> None:
    response = llm.chat_with_tools([ADD], user_msg="Add 2 and 3.", tool_required=True)
    assert response.additional_kwargs["finish_reason"] == "tool_calls"
    (selection,) = llm.get_tool_calls_from_response(response)
    assert selection.tool_name == "add"
    assert selection.tool_id
    assert sorted(selection.tool_kwargs) == ["a", "b"]
    assert all(isinstance(v, int) for v in selection.tool_kwargs.values())


async def test_streamed_tool_call_grows_and_ends_whole(llm: AtomaChat) -> None:
    gen = await llm.astream_chat_with_tools([ADD], user_msg="Add 2 and 3.", tool_choice="add")
    responses = [r async for r in gen]
    assert len(responses) > 2  # the call arrived in pieces
    shown = [llm.get_tool_calls_from_response(r, error_on_no_tool_call=False) for r in responses]
    assert all(len(s) == 1 and s[0].tool_name == "add" for s in shown if s)
    final = llm.get_tool_calls_from_response(responses[-1])
    assert sorted(final[0].tool_kwargs) == ["a", "b"]
    # llama.cpp repeats the id in every piece: it is there once, not repeated.
    call = responses[-1].message.additional_kwargs["tool_calls"][0]
    assert call.id.count("call_") == 1


def test_predict_and_call_runs_the_tool(llm: AtomaChat) -> None:
    CALLS.clear()
    result = llm.predict_and_call([ADD], user_msg="Add 2 and 3.", tool_required=True)
    assert len(CALLS) == 1
    assert result.response == str(sum(CALLS[0]))


def test_a_tool_result_is_answered(llm: AtomaChat) -> None:
    first = llm.chat_with_tools([ADD], user_msg="Add 2 and 3.", tool_required=True)
    (selection,) = llm.get_tool_calls_from_response(first)
    history = [
        ChatMessage(role="user", content="Add 2 and 3."),
        first.message,
        ChatMessage(
            role="tool", content="5", additional_kwargs={"tool_call_id": selection.tool_id}
        ),
    ]
    answer = llm.chat(history, max_tokens=8)
    assert answer.additional_kwargs["finish_reason"] in ("stop", "length")


def test_structured_predict_and_as_structured_llm(llm: AtomaChat) -> None:
    prompt = PromptTemplate("Is {thing} a color?")
    verdict = llm.structured_predict(Verdict, prompt, thing="red")
    assert isinstance(verdict, Verdict)
    structured = llm.as_structured_llm(Verdict).chat(
        [ChatMessage(role="user", content="Is red a color?")]
    )
    assert isinstance(structured.raw, Verdict)
    assert Verdict.model_validate_json(structured.message.content or "") == structured.raw


async def test_structured_output_async_and_streamed(llm: AtomaChat) -> None:
    prompt = PromptTemplate("Is {thing} a color?")
    assert isinstance(await llm.astructured_predict(Verdict, prompt, thing="red"), Verdict)
    *_, last = llm.stream_structured_predict(Verdict, prompt, thing="red")
    assert isinstance(last, Verdict)
    assert last.answer in ("yes", "no")


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
async def test_function_agent_calls_the_tool(llm: AtomaChat, streaming: bool) -> None:
    """A FunctionAgent whose first step must call ``add`` (a named choice); its next step is
    "auto", where the server answers in text, which ends the run."""
    CALLS.clear()
    agent = FunctionAgent(tools=[ADD], llm=llm, initial_tool_choice="add", streaming=streaming)
    handler = agent.run("Add 2 and 3.")
    results: list[ToolCallResult] = []
    streamed = 0
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            results.append(event)
        elif isinstance(event, AgentStream):
            streamed += 1
    output = await handler
    assert [r.tool_name for r in results] == ["add"]
    assert CALLS and results[0].tool_output.content == str(sum(CALLS[0]))
    assert (streamed > 0) is streaming
    assert output.current_agent_name == agent.name

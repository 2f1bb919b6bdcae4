"""Both chat adapters' history and image shapes, on the real llama.cpp server.

History: the second call of a tool loop sends the first answer back; with
``output_version="v1"`` that answer's content is a list of blocks (``tool_call``), which
must reach the server as text plus ``tool_calls``. The tiny model sends no reasoning (the
scripted tests in tests/unit cover reasoning), and its "auto" tool choice fails, so the first
call names its tool.

Images: llama.cpp's server takes ``image_url`` parts (its request schema is OpenAI's), but
this build has no vision model (it renders the parts as text), so these tests check that
the request is accepted and answered, not what the model sees; the scripted unit tests
check the parts sent.
"""

from __future__ import annotations

import base64
from functools import reduce
from typing import Literal

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from llama_index.core.base.llms.types import ImageBlock, TextBlock
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool

from atoma_integrations.langchain import ChatAtoma
from atoma_integrations.llama_index import AtomaChat

pytestmark = pytest.mark.integration


@tool
def get_forecast(city: Literal["Paris", "London"], days: int) -> str:
    """Weather forecast for a city."""
    return f"sunny in {city} for {days} days"


def multiply(a: int, b: int) -> int:
    """Multiply two integers (integer arguments: the grammar makes the tiny model close them)."""
    return a * b


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_a_v1_tool_call_answer_goes_back_as_history(
    server_base_url: str, server_chat_model: str, stream: bool
) -> None:
    chat = ChatAtoma(
        model=server_chat_model,
        base_url=server_base_url,
        temperature=0,
        max_tokens=60,
        max_retries=0,
        output_version="v1",
    )
    question = HumanMessage("What is the weather in Paris for 2 days?")
    with_tools = chat.bind_tools([get_forecast], tool_choice="get_forecast")
    first: BaseMessage
    if stream:
        first = reduce(lambda a, b: a + b, with_tools.stream([question]))
        assert isinstance(first, AIMessageChunk)
    else:
        first = with_tools.invoke([question])
    assert isinstance(first, AIMessage)
    assert isinstance(first.content, list)
    assert any(block["type"] == "tool_call" for block in first.content_blocks)
    call = first.tool_calls[0]
    history = [
        question,
        first,
        ToolMessage(get_forecast.invoke(call["args"]), tool_call_id=call["id"]),
    ]
    answer = chat.invoke(history)
    assert isinstance(answer.content, list)
    assert answer.text


def test_an_atoma_chat_tool_call_answer_goes_back_as_history(
    server_base_url: str, server_chat_model: str
) -> None:
    llm = AtomaChat(
        model=server_chat_model,
        base_url=server_base_url,
        temperature=0,
        max_tokens=60,
        max_retries=0,
        context_window=2048,
    )
    tool_ = FunctionTool.from_defaults(multiply)
    question = ChatMessage(role="user", content="What is 6 times 7?")
    first = llm.chat_with_tools([tool_], user_msg=question, tool_required=True)
    selection = llm.get_tool_calls_from_response(first)[0]
    result = ChatMessage(
        role="tool",
        content=str(multiply(**selection.tool_kwargs)),
        additional_kwargs={"tool_call_id": selection.tool_id},
    )
    answer = llm.chat([question, first.message, result])
    assert answer.message.content


# The smallest PNG (1x1, transparent): a valid image in a few bytes of prompt.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kg"
    "AAAABJRU5ErkJggg=="
)


def test_chat_atoma_sends_an_image_the_server_accepts(
    server_base_url: str, server_chat_model: str
) -> None:
    chat = ChatAtoma(
        model=server_chat_model, base_url=server_base_url, max_tokens=10, max_retries=0
    )
    message = HumanMessage(
        content=[
            {"type": "text", "text": "Describe this picture."},
            {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
        ]
    )
    answer = chat.invoke([message])
    assert answer.response_metadata["finish_reason"] in ("stop", "length")


async def test_atoma_chat_sends_an_image_the_server_accepts(
    server_base_url: str, server_chat_model: str
) -> None:
    llm = AtomaChat(
        model=server_chat_model,
        base_url=server_base_url,
        max_tokens=10,
        max_retries=0,
        context_window=2048,
    )
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="Describe this picture."),
            ImageBlock(image=base64.b64decode(PNG_B64), image_mimetype="image/png"),
        ],
    )
    answer = await llm.achat([message])
    assert answer.additional_kwargs["finish_reason"] in ("stop", "length")

"""AtomaChat (LlamaIndex) with reasoning models and images, on a mocked transport.

The local llama.cpp model sends no reasoning, so reasoning is scripted here in both wire
spellings vLLM uses (``reasoning_content``, ``reasoning``) and with both at once.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from llama_index.core.base.llms.types import (
    AudioBlock,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.core.llms import ChatMessage, ChatResponse

from atoma_integrations.llama_index import AtomaChat
from atoma_integrations.llama_index._messages import UnsupportedContentError
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
HI = [ChatMessage(role="user", content="Weather in Paris?")]
SPELLINGS = {
    "reasoning_content": lambda text: {"reasoning_content": text},
    "reasoning": lambda text: {"reasoning": text},
    "both": lambda text: {"reasoning": text, "reasoning_content": text},
}
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}
# The smallest valid PNG header: enough for the mime type to be recognised.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


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
    return AtomaChat(**kwargs)


def answer(content: str | None, reasoning: str, spelling: str = "reasoning", **kw: Any) -> Any:
    body = chat_completion(content, **kw)
    body["choices"][0]["message"].update(SPELLINGS[spelling](reasoning))
    return json_reply(200, body)


def thinking(text: str, spelling: str = "reasoning") -> dict[str, Any]:
    event = chat_chunk()
    event["choices"][0]["delta"] = SPELLINGS[spelling](text)
    return event


def thinking_stream(spelling: str = "reasoning", *, tool: bool = False) -> Any:
    events: list[dict[str, Any] | str] = [
        chat_chunk("", role="assistant"),
        thinking("Paris is ", spelling),
        thinking("in France.", spelling),
    ]
    if tool:
        events += [
            chat_chunk(tool_calls=[tool_delta(0, "", call_id="call_1", name="get_weather")]),
            chat_chunk(tool_calls=[tool_delta(0, '{"city": "Paris"}')]),
            chat_chunk(None, "tool_calls"),
        ]
    else:
        events += [chat_chunk("It is "), chat_chunk("sunny."), chat_chunk(None, "stop")]
    return stream_reply([sse(*events)])


# --- reasoning in answers ----------------------------------------------------------------


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_chat_puts_a_thinking_block_first(server: MockServer, spelling: str) -> None:
    server.replies.append(answer("Sunny.", "Paris is in France.", spelling))
    message = make_llm().chat(HI).message
    assert isinstance(message.blocks[0], ThinkingBlock)
    assert message.blocks[0].content == "Paris is in France."
    assert message.content == "Sunny."


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_stream_chat_delivers_each_piece_of_reasoning_as_a_thinking_delta(
    server: MockServer, spelling: str
) -> None:
    server.replies.append(thinking_stream(spelling))
    responses = list(make_llm().stream_chat(HI))
    deltas = [r.additional_kwargs.get("thinking_delta") for r in responses]
    assert deltas == ["Paris is ", "in France.", None, None, None]
    assert [r.delta for r in responses] == ["", "", "It is ", "sunny.", ""]
    second = responses[1].message.blocks
    assert isinstance(second[0], ThinkingBlock)
    assert second[0].content == "Paris is in France."
    final = responses[-1].message
    assert isinstance(final.blocks[0], ThinkingBlock)
    assert final.blocks[0].content == "Paris is in France."
    assert final.content == "It is sunny."
    assert "thinking_delta" not in final.additional_kwargs


def test_each_streamed_response_keeps_the_reasoning_and_text_of_its_moment(
    server: MockServer,
) -> None:
    # Blocks that did not change are shared between responses: later pieces must not show
    # up in responses already delivered.
    server.replies.append(thinking_stream())
    responses = list(make_llm().stream_chat(HI))
    snapshots = [
        ([b.content for b in r.message.blocks if isinstance(b, ThinkingBlock)], r.message.content)
        for r in responses
    ]
    assert snapshots == [
        (["Paris is "], ""),
        (["Paris is in France."], ""),
        (["Paris is in France."], "It is "),
        (["Paris is in France."], "It is sunny."),
        (["Paris is in France."], "It is sunny."),
    ]


async def test_astream_chat_delivers_the_reasoning_too(server: MockServer) -> None:
    server.replies.append(thinking_stream("reasoning_content"))
    responses = [r async for r in await make_llm().astream_chat(HI)]
    pieces = [r.additional_kwargs.get("thinking_delta") for r in responses]
    assert pieces[:2] == ["Paris is ", "in France."]
    assert responses[-1].message.blocks[0] == ThinkingBlock(content="Paris is in France.")


def test_a_stream_of_tool_calls_keeps_its_reasoning_first(server: MockServer) -> None:
    server.replies.append(thinking_stream(tool=True))
    responses = list(make_llm().stream_chat(HI))
    for response in responses[2:]:
        assert isinstance(response.message.blocks[0], ThinkingBlock)
    final = responses[-1].message
    assert [type(b) for b in final.blocks] == [ThinkingBlock, ToolCallBlock]


def test_reasoning_effort_is_a_checked_field_and_a_per_call_argument(server: MockServer) -> None:
    server.replies.append(json_reply(200, chat_completion("ok")))
    llm = make_llm(reasoning_effort="medium")
    llm.chat(HI)
    llm.chat(HI, reasoning_effort="minimal")
    assert [b["reasoning_effort"] for b in server.bodies] == ["medium", "minimal"]
    with pytest.raises(ValueError, match="reasoning_effort"):
        make_llm(reasoning_effort="extreme")


# --- history -------------------------------------------------------------------------------------


def turn(llm: AtomaChat, server: MockServer, *, stream: bool) -> ChatResponse:
    if stream:
        server.replies.append(thinking_stream(tool=True))
        return list(llm.stream_chat(HI))[-1]
    server.replies.append(answer(None, "Paris is in France.", tool_calls=[CALL]))
    return llm.chat(HI)


EXPECTED_ASSISTANT = {"role": "assistant", "content": "", "tool_calls": [CALL]}


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream_chat"])
def test_the_models_answers_go_back_without_reasoning_unless_asked(
    server: MockServer, stream: bool
) -> None:
    llm = make_llm()
    first = turn(llm, server, stream=stream)
    history = [
        *HI,
        first.message,
        ChatMessage(role="tool", content="sunny", additional_kwargs={"tool_call_id": "call_1"}),
    ]
    server.replies.append(json_reply(200, chat_completion("It is sunny.")))
    llm.chat(history)
    assert server.bodies[-1]["messages"][1] == EXPECTED_ASSISTANT
    llm.chat(history, send_reasoning=True)
    assert server.bodies[-1]["messages"][1] == {
        **EXPECTED_ASSISTANT,
        "reasoning": "Paris is in France.",
    }
    make_llm(send_reasoning=True).chat(history)
    assert server.bodies[-1]["messages"][1]["reasoning"] == "Paris is in France."


# --- images ------------------------------------------------------------------------------------


def test_image_blocks_become_image_url_parts(server: MockServer, tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="What are these?"),
            ImageBlock(url="https://example.com/cat.png", detail="low"),
            ImageBlock(path=path),
            ImageBlock(image=PNG, image_mimetype="image/png"),
            TextBlock(text="Be brief."),
        ],
    )
    server.replies.append(json_reply(200, chat_completion("Cats")))
    make_llm().chat([message])
    assert server.bodies[0]["messages"][0]["content"] == [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "text", "text": "Be brief."},
    ]


REJECTED = [
    AudioBlock(audio=b"RIFF0000WAVE", format="wav"),
    VideoBlock(url="https://example.com/a.mp4"),
    DocumentBlock(data=b"%PDF-1.4", document_mimetype="application/pdf"),
]


@pytest.mark.parametrize("block", REJECTED, ids=lambda b: type(b).__name__)
def test_audio_video_and_document_blocks_are_refused_naming_them(
    server: MockServer, block: Any
) -> None:
    messages = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), block]),
    ]
    with pytest.raises(UnsupportedContentError) as caught:
        make_llm().chat(messages)
    assert f"message 1 (user): a {type(block).__name__} cannot be sent" in str(caught.value)
    assert server.requests == []


def test_an_image_outside_a_user_message_is_refused(server: MockServer) -> None:
    message = ChatMessage(role="assistant", blocks=[ImageBlock(url="https://example.com/a.png")])
    with pytest.raises(UnsupportedContentError, match=r"message 0 \(assistant\): a ImageBlock"):
        make_llm().chat([message])

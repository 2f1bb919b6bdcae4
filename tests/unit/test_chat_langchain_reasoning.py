"""ChatAtoma with reasoning models, images and its own answers as history (mocked transport).

The local llama.cpp model sends no reasoning, so reasoning is scripted here in both wire
spellings vLLM uses (``reasoning_content``, ``reasoning``) and with both at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import reduce
from typing import Any

import pytest
import respx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk

from atoma_integrations.langchain import ChatAtoma
from atoma_integrations.langchain._chat_messages import UnsupportedContentError
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
SPELLINGS = {
    "reasoning_content": lambda text: {"reasoning_content": text},
    "reasoning": lambda text: {"reasoning": text},
    "both": lambda text: {"reasoning": text, "reasoning_content": text},
}
USAGE = {
    "prompt_tokens": 5,
    "completion_tokens": 9,
    "total_tokens": 14,
    "completion_tokens_details": {"reasoning_tokens": 6},
}
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}
PNG_B64 = "iVBORw0KGgo="


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


def answer(
    content: str | None, reasoning: str, spelling: str = "reasoning", **kwargs: Any
) -> dict[str, Any]:
    body = chat_completion(content, usage=USAGE, **kwargs)
    body["choices"][0]["message"].update(SPELLINGS[spelling](reasoning))
    return body


def thinking(text: str, spelling: str = "reasoning") -> dict[str, Any]:
    event = chat_chunk()
    event["choices"][0]["delta"] = SPELLINGS[spelling](text)
    return event


def thinking_stream(spelling: str = "reasoning", *, tool: bool = False) -> bytes:
    """Role, two pieces of reasoning, then the answer (text, or a tool call), then usage."""
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
    events.append({"id": "chatcmpl-1", "choices": [], "usage": USAGE})
    return sse(*events)


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    return reduce(lambda a, b: a + b, chunks)


# --- reasoning in answers ----------------------------------------------------------------


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_invoke_puts_the_reasoning_in_additional_kwargs_and_first_in_content_blocks(
    server: MockServer, spelling: str
) -> None:
    server.replies.append(json_reply(200, answer("Sunny.", "Paris is in France.", spelling)))
    message = make_chat().invoke("Weather in Paris?")
    assert message.additional_kwargs["reasoning_content"] == "Paris is in France."
    assert message.content == "Sunny."
    assert message.content_blocks[0] == {"type": "reasoning", "reasoning": "Paris is in France."}
    assert message.content_blocks[1]["type"] == "text"
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_token_details"] == {"reasoning": 6}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_each_piece_of_reasoning_is_its_own_chunk_and_the_merge_is_the_whole_answer(
    server: MockServer, spelling: str
) -> None:
    server.replies.append(stream_reply([thinking_stream(spelling)]))
    chunks = list(make_chat().stream("Weather in Paris?"))
    pieces = [c.additional_kwargs.get("reasoning_content") for c in chunks]
    assert pieces[:2] == ["Paris is ", "in France."]
    assert [c.content for c in chunks[:2]] == ["", ""]
    whole = merged(chunks)
    assert whole.additional_kwargs["reasoning_content"] == "Paris is in France."
    assert whole.content == "It is sunny."
    assert whole.content_blocks[0] == {"type": "reasoning", "reasoning": "Paris is in France."}
    assert whole.usage_metadata is not None
    assert whole.usage_metadata["output_token_details"] == {"reasoning": 6}

    server.replies.append(json_reply(200, answer("It is sunny.", "Paris is in France.")))
    full = make_chat().invoke("Weather in Paris?")
    assert whole.content == full.content
    assert whole.additional_kwargs == full.additional_kwargs


async def test_astream_yields_the_reasoning_chunks_too(server: MockServer) -> None:
    server.replies.append(stream_reply([thinking_stream("reasoning_content")]))
    chunks = [c async for c in make_chat().astream("Weather in Paris?")]
    assert merged(chunks).additional_kwargs["reasoning_content"] == "Paris is in France."


def test_a_chunk_with_reasoning_and_content_keeps_both(server: MockServer) -> None:
    event = chat_chunk("Sunny")
    event["choices"][0]["delta"]["reasoning"] = "done thinking"
    server.replies.append(stream_reply([sse(event, chat_chunk(None, "stop"))]))
    chunks = list(make_chat().stream("Weather?"))
    assert chunks[0].content == "Sunny"
    assert chunks[0].additional_kwargs == {"reasoning_content": "done thinking"}


class Recorder(BaseCallbackHandler):
    """Records, in one shared log, the reasoning each callback chunk carries."""

    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.log = log

    def on_llm_new_token(
        self,
        token: str,
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        **kwargs: Any,
    ) -> None:
        assert isinstance(chunk, ChatGenerationChunk)
        piece = chunk.message.additional_kwargs.get("reasoning_content")
        if piece:
            self.log.append(("callback", piece))


def test_callbacks_get_each_reasoning_chunk_before_it_is_yielded(server: MockServer) -> None:
    server.replies.append(stream_reply([thinking_stream()]))
    log: list[tuple[str, str]] = []
    for chunk in make_chat().stream("Weather?", config={"callbacks": [Recorder(log)]}):
        piece = chunk.additional_kwargs.get("reasoning_content")
        if piece:
            log.append(("yielded", piece))
    assert log == [
        ("callback", "Paris is "),
        ("yielded", "Paris is "),
        ("callback", "in France."),
        ("yielded", "in France."),
    ]


def test_output_version_v1_invoke_and_stream_have_reasoning_then_text(
    server: MockServer,
) -> None:
    chat = make_chat(output_version="v1")
    server.replies.append(json_reply(200, answer("Sunny.", "Paris is in France.")))
    message = chat.invoke("Weather?")
    assert isinstance(message.content, list)
    assert [b["type"] for b in message.content] == ["reasoning", "text"]
    assert message.content[0]["reasoning"] == "Paris is in France."

    server.replies.append(stream_reply([thinking_stream()]))
    whole = merged(list(chat.stream("Weather?")))
    blocks = whole.content_blocks
    assert blocks[0]["type"] == "reasoning"
    assert "".join(b.get("reasoning", "") for b in blocks if b["type"] == "reasoning") == (
        "Paris is in France."
    )
    assert "".join(b.get("text", "") for b in blocks if b["type"] == "text") == "It is sunny."


# --- parameters ----------------------------------------------------------------------------


def test_reasoning_effort_is_a_checked_field_and_a_per_call_argument(server: MockServer) -> None:
    server.replies.append(json_reply(200, chat_completion("ok")))
    chat = make_chat(reasoning_effort="high")
    chat.invoke("Hi")
    chat.invoke("Hi", reasoning_effort="low")
    assert [b["reasoning_effort"] for b in server.bodies] == ["high", "low"]
    with pytest.raises(ValueError, match="reasoning_effort"):
        make_chat(reasoning_effort="extreme")


def test_bind_tools_with_no_tools_sends_nothing_about_tools(server: MockServer) -> None:
    server.replies.append(json_reply(200, chat_completion("ok")))
    make_chat().bind_tools([]).invoke("Hi")
    make_chat().bind_tools([], tool_choice="auto").invoke("Hi")
    for body in server.bodies:
        assert "tools" not in body
        assert "tool_choice" not in body
    with pytest.raises(ValueError, match="needs at least one tool"):
        make_chat().bind_tools([], tool_choice="any")


# --- history ---------------------------------------------------------------------------------


def tool_turn(chat: ChatAtoma, server: MockServer, *, stream: bool) -> BaseMessage:
    """The model's tool-calling answer with reasoning, whole or merged from a stream."""
    if stream:
        server.replies.append(stream_reply([thinking_stream(tool=True)]))
        return merged(list(chat.stream("Weather in Paris?")))
    server.replies.append(json_reply(200, answer(None, "Paris is in France.", tool_calls=[CALL])))
    return chat.invoke("Weather in Paris?")


EXPECTED_ASSISTANT = {
    "role": "assistant",
    "content": "",
    "tool_calls": [CALL],
}


@pytest.mark.parametrize("output_version", ["v0", "v1"])
@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_the_models_own_answers_are_accepted_back_without_their_reasoning(
    server: MockServer, output_version: str, stream: bool
) -> None:
    chat = make_chat(output_version=output_version)
    turn = tool_turn(chat, server, stream=stream)
    assert turn.tool_calls[0]["name"] == "get_weather"
    history = [
        HumanMessage("Weather in Paris?"),
        turn,
        ToolMessage("sunny", tool_call_id="call_1"),
    ]
    server.replies.append(json_reply(200, chat_completion("It is sunny.")))
    chat.invoke(history)
    sent = server.bodies[-1]["messages"]
    assert sent[1] == EXPECTED_ASSISTANT
    assert sent[2] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}

    chat.invoke(history, send_reasoning=True)
    assert server.bodies[-1]["messages"][1] == {
        **EXPECTED_ASSISTANT,
        "reasoning": "Paris is in France.",
    }


def test_send_reasoning_as_a_field_sends_text_answers_reasoning_too(server: MockServer) -> None:
    chat = make_chat(output_version="v1", send_reasoning=True)
    server.replies.append(json_reply(200, answer("Sunny.", "Paris is in France.")))
    first = chat.invoke("Weather in Paris?")
    chat.invoke([HumanMessage("Weather in Paris?"), first, HumanMessage("And tomorrow?")])
    assert server.bodies[-1]["messages"][1] == {
        "role": "assistant",
        "content": "Sunny.",
        "reasoning": "Paris is in France.",
    }
    assert chat._identifying_params["send_reasoning"] is True


def test_an_assistant_message_with_an_image_is_refused_by_name(server: MockServer) -> None:
    odd = AIMessage(content=[{"type": "image", "url": "https://example.com/a.png"}])
    with pytest.raises(UnsupportedContentError, match=r"message 1 \(ai\): a 'image' block"):
        make_chat().invoke([HumanMessage("Draw"), odd, HumanMessage("Again")])
    assert server.requests == []


# --- images ------------------------------------------------------------------------------------


def test_image_blocks_become_image_url_parts(server: MockServer) -> None:
    server.replies.append(json_reply(200, chat_completion("Cats")))
    content: list[str | dict[str, Any]] = [
        {"type": "text", "text": "What are these?"},
        {"type": "image", "url": "https://example.com/cat.png"},
        {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
        {"type": "image_url", "image_url": {"url": "https://example.com/dog.png", "detail": "low"}},
    ]
    make_chat().invoke([HumanMessage(content=content)])
    parts = server.bodies[0]["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "What are these?"}
    assert [p["image_url"]["url"] for p in parts[1:]] == [
        "https://example.com/cat.png",
        f"data:image/png;base64,{PNG_B64}",
        "https://example.com/dog.png",
    ]
    assert parts[3]["image_url"]["detail"] == "low"


# Each block, and the type LangChain gives it (OpenAI's input_audio is its audio block).
REJECTED_BLOCKS: list[tuple[dict[str, Any], str]] = [
    ({"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"}, "audio"),
    ({"type": "video", "url": "https://example.com/a.mp4"}, "video"),
    ({"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"}, "file"),
    ({"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}, "audio"),
]


@pytest.mark.parametrize(
    ("block", "kind"), REJECTED_BLOCKS, ids=["audio", "video", "file", "input_audio"]
)
def test_audio_video_and_file_blocks_are_a_typed_error_before_any_request(
    server: MockServer, block: dict[str, Any], kind: str
) -> None:
    messages = [
        ("system", "Be brief."),
        HumanMessage(content=[{"type": "text", "text": "What is this?"}, block]),
    ]
    with pytest.raises(ModelInvalidRequestError) as caught:
        make_chat().invoke(messages)
    assert isinstance(caught.value, ValueError)
    assert f"message 1 (human): a {kind!r} block cannot be sent" in str(caught.value)
    assert server.requests == []


def test_an_image_by_file_id_is_a_typed_error(server: MockServer) -> None:
    message = HumanMessage(content=[{"type": "image", "file_id": "file-1"}])
    with pytest.raises(UnsupportedContentError, match=r"message 0 \(human\): an 'image' block"):
        make_chat().invoke([message])
    assert server.requests == []

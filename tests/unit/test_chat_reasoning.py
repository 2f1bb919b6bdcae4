"""The chat client with reasoning models and images: what is read, accumulated and sent.

vLLM sends a model's thinking as ``reasoning_content`` (up to 0.11), both names (0.11.1 to
0.15) or ``reasoning`` (0.16 on); the client reads either into ``reasoning``. The local
llama.cpp model sends no reasoning, so these run on scripted answers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from atoma_integrations import StreamInterruptedError
from atoma_integrations.types import ChatCompletionRequest, ChoiceDelta
from atoma_integrations.types.chat import AssistantMessageParam, UserMessageParam
from tests.support.mock_server import (
    MockServer,
    chat_chunk,
    chat_completion,
    json_reply,
    sse,
    stream_reply,
)

USER = [{"role": "user", "content": "Hi"}]
PNG = "data:image/png;base64,iVBORw0KGgo="

# The wire spellings of one piece of reasoning, as the vLLM versions send it.
SPELLINGS = {
    "reasoning_content": lambda text: {"reasoning_content": text},
    "reasoning": lambda text: {"reasoning": text},
    "both": lambda text: {"reasoning": text, "reasoning_content": text},
}


def thinking_chunk(text: str, spelling: str) -> dict[str, Any]:
    """A streamed chunk whose delta carries only reasoning, in ``spelling``."""
    event = chat_chunk()
    event["choices"][0]["delta"] = SPELLINGS[spelling](text)
    return event


def thinking_answer(content: str, reasoning: str, spelling: str) -> dict[str, Any]:
    body = chat_completion(content)
    body["choices"][0]["message"].update(SPELLINGS[spelling](reasoning))
    return body


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_whole_answer_has_its_reasoning_typed(spelling: str) -> None:
    server = MockServer([json_reply(200, thinking_answer("4", "2 + 2 is 4", spelling))])
    answer = server.client().chat.completions.create(model="m", messages=USER)
    message = answer.choices[0].message
    assert message.reasoning == "2 + 2 is 4"
    assert message.content == "4"


def test_reasoning_wins_over_reasoning_content_when_they_differ() -> None:
    delta = ChoiceDelta.model_validate({"reasoning": "new", "reasoning_content": "old"})
    assert delta.reasoning == "new"
    assert ChoiceDelta.model_validate({"content": "x"}).reasoning is None


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_stream_yields_reasoning_chunks_then_content_and_accumulates_both(
    spelling: str,
) -> None:
    events = [
        chat_chunk("", role="assistant"),
        thinking_chunk("Two and ", spelling),
        thinking_chunk("two: four.", spelling),
        chat_chunk("4"),
        chat_chunk(None, "stop"),
    ]
    server = MockServer([stream_reply([sse(*events)])])
    with server.client().chat.completions.create_stream(model="m", messages=USER) as stream:
        deltas = [chunk.choices[0].delta for chunk in stream]
    assert [d.reasoning for d in deltas] == [None, "Two and ", "two: four.", None, None]
    assert stream.message.reasoning == "Two and two: four."
    assert stream.message.content == "4"


def test_a_stream_without_reasoning_has_none() -> None:
    server = MockServer([stream_reply([sse(chat_chunk("Hi"), chat_chunk(None, "stop"))])])
    with server.client().chat.completions.create_stream(model="m", messages=USER) as stream:
        list(stream)
    assert stream.message.reasoning is None


def test_a_stream_cut_while_thinking_keeps_the_reasoning() -> None:
    events = [thinking_chunk("Let me", "reasoning"), thinking_chunk(" think", "reasoning")]
    server = MockServer([stream_reply([sse(*events)])])
    stream = server.client().chat.completions.create_stream(model="m", messages=USER)
    with pytest.raises(StreamInterruptedError) as caught:
        list(stream)
    assert caught.value.partial_message.reasoning == "Let me think"
    assert caught.value.text == ""


def test_usage_keeps_the_reasoning_tokens_typed() -> None:
    body = chat_completion(
        "4",
        usage={
            "prompt_tokens": 5,
            "completion_tokens": 30,
            "total_tokens": 35,
            "completion_tokens_details": {"reasoning_tokens": 26},
        },
    )
    server = MockServer([json_reply(200, body)])
    usage = server.client().chat.completions.create(model="m", messages=USER).usage
    assert usage is not None
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 26


# --- sending -----------------------------------------------------------------------------


def test_reasoning_effort_is_sent_and_other_switches_go_through_extra_body() -> None:
    server = MockServer([json_reply(200, chat_completion("4"))])
    server.client().chat.completions.create(
        model="m",
        messages=USER,
        reasoning_effort="low",
        extra_body={"chat_template_kwargs": {"enable_thinking": False}, "include_reasoning": True},
    )
    body = server.bodies[0]
    assert body["reasoning_effort"] == "low"
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["include_reasoning"] is True


def test_an_unknown_reasoning_effort_is_refused_before_any_request() -> None:
    server = MockServer([json_reply(200, chat_completion("4"))])
    with pytest.raises(ValidationError, match="reasoning_effort"):
        server.client().chat.completions.create(
            model="m", messages=USER, reasoning_effort="extreme"
        )
    assert server.requests == []


def test_an_assistant_message_sends_its_reasoning_only_when_given() -> None:
    plain = AssistantMessageParam(role="assistant", content="4")
    assert "reasoning" not in json.loads(plain.model_dump_json(exclude_none=True))
    request = ChatCompletionRequest(
        model="m",
        messages=[
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4", "reasoning": "2 + 2 is 4"},
            {"role": "user", "content": "And 3+3?"},
        ],
    )
    sent = json.loads(request.model_dump_json(exclude_none=True))
    assert sent["messages"][1] == {"role": "assistant", "content": "4", "reasoning": "2 + 2 is 4"}


# --- images ----------------------------------------------------------------------------------


def test_user_image_parts_by_url_and_data_url_are_sent_as_given() -> None:
    content = [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
    ]
    server = MockServer([json_reply(200, chat_completion("Cats"))])
    server.client().chat.completions.create(
        model="m", messages=[{"role": "user", "content": content}]
    )
    assert server.bodies[0]["messages"][0]["content"] == content


@pytest.mark.parametrize("kind", ["input_audio", "video_url", "file", "audio_url"])
def test_other_user_parts_are_refused_naming_the_part_and_the_message(kind: str) -> None:
    content = [{"type": "text", "text": "Listen"}, {"type": kind, kind: {"data": "AAAA"}}]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": content}]
    with pytest.raises(ValidationError) as caught:
        ChatCompletionRequest(model="m", messages=messages)
    text = str(caught.value)
    assert f"content part 1 is of type {kind!r}" in text
    assert "messages.1.user.content" in text


@pytest.mark.parametrize("role", ["system", "assistant"])
def test_images_are_for_user_messages_only(role: str) -> None:
    content = [{"type": "image_url", "image_url": {"url": PNG}}]
    with pytest.raises(ValidationError, match=f"{role} messages take text parts"):
        ChatCompletionRequest(model="m", messages=[{"role": role, "content": content}])


@pytest.mark.parametrize("url", ["ftp://example.com/cat.png", "cat.png", "data:text/plain,hi"])
def test_an_image_url_must_be_a_web_address_or_a_base64_image(url: str) -> None:
    part = {"type": "image_url", "image_url": {"url": url}}
    with pytest.raises(ValidationError, match="url"):
        UserMessageParam(role="user", content=[part])

"""Chat streams as Atoma, vLLM and llama.cpp send them, and chat streams cut short.

The decoder and stream objects are the completions' own (tests/unit/test_client_streaming.py
covers the framing); these tests cover what chat adds: deltas, tool calls merged by index
across chunks and network reads, and ``stream.message``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from atoma_integrations import ChatCompletionMessage, MalformedEventError, StreamInterruptedError
from atoma_integrations._chat_stream_state import ChatStreamState
from atoma_integrations._sse import SSEDecoder
from tests.support.mock_server import MockServer, chat_chunk, sse, stream_reply, tool_delta

USER = [{"role": "user", "content": "Hi"}]
USAGE = {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}


def collect(server: MockServer) -> tuple[list[Any], Any]:
    with server.client().chat.completions.create_stream(model="m", messages=USER) as stream:
        chunks = list(stream)
    return chunks, stream


def test_text_deltas_build_the_message_and_usage_only_events_are_not_yielded() -> None:
    body = (
        b": keep-alive\n\n"
        + sse(chat_chunk("", role="assistant"), chat_chunk("Hel", response_hash="h"))
        + b": keep-alive\n\n"
        + sse(chat_chunk("lo", "stop"), {"id": "x", "choices": [], "usage": USAGE})
    )  # no [DONE]: Atoma's proxy ends the body instead
    chunks, stream = collect(MockServer([stream_reply([body])]))
    assert [c.choices[0].delta.content for c in chunks] == ["", "Hel", "lo"]
    assert stream.message == ChatCompletionMessage(role="assistant", content="Hello")
    assert stream.text == "Hello"
    assert stream.usage.total_tokens == 7
    assert chunks[1].model_extra == {"response_hash": "h"}


def test_usage_on_every_chunk_is_counted_once_last_wins() -> None:
    events = [
        chat_chunk("a", usage={"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}),
        chat_chunk("b", usage={"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}),
        chat_chunk(None, "stop", usage=USAGE),
    ]
    _, stream = collect(MockServer([stream_reply([sse(*events, done=True)])]))
    assert stream.usage.completion_tokens == 3
    assert stream.message.content == "ab"


def _tool_call_stream() -> bytes:
    """Two tool calls interleaved by index, OpenAI style: id and name once, args in pieces."""
    events = [
        chat_chunk(role="assistant", content=None),
        chat_chunk(tool_calls=[tool_delta(0, "", call_id="call_a", name="get_weather")]),
        chat_chunk(tool_calls=[tool_delta(1, "", call_id="call_b", name="get_time")]),
        chat_chunk(tool_calls=[tool_delta(0, '{"ci')]),
        chat_chunk(tool_calls=[tool_delta(1, '{"tz": "C')]),
        chat_chunk(tool_calls=[tool_delta(0, 'ty": "Pa'), tool_delta(1, 'ET"}')]),
        chat_chunk(tool_calls=[tool_delta(0, 'ris"}')]),
        chat_chunk(None, "tool_calls"),
    ]
    return sse(*events, done=True)


EXPECTED_CALLS = [
    ("call_a", "get_weather", '{"city": "Paris"}'),
    ("call_b", "get_time", '{"tz": "CET"}'),
]


def _calls(message: ChatCompletionMessage) -> list[tuple[str, str, str]]:
    return [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]


def test_interleaved_tool_calls_are_merged_by_index() -> None:
    _, stream = collect(MockServer([stream_reply([_tool_call_stream()])]))
    assert _calls(stream.message) == EXPECTED_CALLS
    assert stream.message.content is None  # as in a whole response: only tool calls


def test_tool_call_deltas_split_at_every_byte() -> None:
    body = _tool_call_stream()
    for cut in range(1, len(body)):
        state, decoder = ChatStreamState(), SSEDecoder()
        for payload in decoder.feed(body[:cut]) + decoder.feed(body[cut:]) + decoder.flush():
            state.decode(payload)
            if state.done:
                break
        state.finish()
        assert _calls(state.message()) == EXPECTED_CALLS, f"split at byte {cut}"


def test_tool_call_deltas_one_byte_per_network_read() -> None:
    body = _tool_call_stream()
    _, stream = collect(MockServer([stream_reply([body[i : i + 1] for i in range(len(body))])]))
    assert _calls(stream.message) == EXPECTED_CALLS


def test_llama_cpp_repeats_id_and_name_in_every_delta_without_doubling_them() -> None:
    pieces = ['{"city"', ': "Par', 'is"}']
    events = [
        chat_chunk(tool_calls=[tool_delta(0, p, call_id="call__0", name="get_weather")])
        for p in pieces
    ]
    body = sse(*events, chat_chunk(None, "tool_calls"), done=True)
    chunks, stream = collect(MockServer([stream_reply([body])]))
    assert _calls(stream.message) == [("call__0", "get_weather", '{"city": "Paris"}')]
    # The chunks are OpenAI-shaped: id and name in the first piece only, so a consumer
    # that concatenates pieces by index (LangChain does) gets them once too.
    pieces = [(c.choices[0].delta.tool_calls or [None])[0] for c in chunks]
    assert [(p.id, p.function.name) for p in pieces if p is not None and p.function] == [
        ("call__0", "get_weather"),
        (None, None),
        (None, None),
    ]


def test_a_tool_call_piece_without_index_takes_its_position() -> None:
    piece = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    body = sse(chat_chunk(tool_calls=[piece]), chat_chunk(None, "tool_calls"))
    _, stream = collect(MockServer([stream_reply([body])]))
    assert _calls(stream.message) == [("c", "f", "{}")]


def test_interruption_carries_the_partial_message_with_its_tool_call() -> None:
    events = [
        chat_chunk("Let me check. "),
        chat_chunk(tool_calls=[tool_delta(0, '{"city": "Pa', call_id="c1", name="get_weather")]),
    ]
    reply = stream_reply([sse(*events)], fail_with=httpx.RemoteProtocolError("peer closed"))
    received: list[Any] = []
    with pytest.raises(StreamInterruptedError, match="chat completion stream") as info:
        with (
            MockServer([reply])
            .client()
            .chat.completions.create_stream(model="m", messages=USER) as stream
        ):
            received.extend(stream)
    assert len(received) == 2
    partial = info.value.partial_message
    assert isinstance(partial, ChatCompletionMessage)
    assert partial.content == "Let me check. "
    assert _calls(partial) == [("c1", "get_weather", '{"city": "Pa')]
    assert info.value.text == "Let me check. "


def test_a_stream_of_only_a_tool_call_without_finish_reason_is_interrupted() -> None:
    body = sse(chat_chunk(tool_calls=[tool_delta(0, "{}", call_id="c", name="f")]), done=True)
    with pytest.raises(StreamInterruptedError, match="tool call") as info:
        collect(MockServer([stream_reply([body])]))
    assert _calls(info.value.partial_message) == [("c", "f", "{}")]


def test_error_event_and_malformed_event_raise_with_what_arrived() -> None:
    error = {"error": {"code": "INTERNAL_ERROR", "message": "node went away"}}
    with pytest.raises(StreamInterruptedError, match="node went away") as info:
        collect(MockServer([stream_reply([sse(chat_chunk("ok "), error)])]))
    assert info.value.text == "ok " and info.value.body == error
    with pytest.raises(StreamInterruptedError, match="malformed") as malformed:
        collect(MockServer([stream_reply([sse(chat_chunk("ok "), "{not json")])]))
    assert isinstance(malformed.value, MalformedEventError)
    assert malformed.value.partial_message.content == "ok "
    bad_shape = {"choices": [{"index": 0, "delta": {"content": 5}}]}
    with pytest.raises(StreamInterruptedError, match="chat completion chunk shape") as shape:
        collect(MockServer([stream_reply([sse(bad_shape)])]))
    assert isinstance(shape.value, MalformedEventError)
    assert "choices.0.delta.content" in str(shape.value)


def test_n_greater_than_one_keeps_a_message_per_choice() -> None:
    body = sse(
        chat_chunk("a", index=0),
        chat_chunk("b", index=1),
        chat_chunk(None, "stop", index=0),
        chat_chunk(None, "stop", index=1),
    )
    _, stream = collect(MockServer([stream_reply([body])]))
    assert {i: m.content for i, m in stream.messages.items()} == {0: "a", 1: "b"}
    unfinished = sse(chat_chunk("a", index=0), chat_chunk("b", index=1), chat_chunk(None, "stop"))
    with pytest.raises(StreamInterruptedError, match=r"\[1\]"):
        collect(MockServer([stream_reply([unfinished])]))


def test_break_closes_the_response_and_done_reads_to_the_end() -> None:
    server = MockServer(
        [
            stream_reply([sse(chat_chunk("a")), sse(chat_chunk("b", "stop"))]),
            stream_reply([sse(chat_chunk("a", "stop"), done=True), b""]),
        ]
    )
    client = server.client()
    with client.chat.completions.create_stream(model="m", messages=USER) as stream:
        for _ in stream:
            break
    assert server.streams[0].closed
    with client.chat.completions.create_stream(model="m", messages=USER) as stream:
        list(stream)
    assert server.streams[1].closed and stream.message.content == "a"


async def test_async_tool_call_stream_and_interruption() -> None:
    server = MockServer(
        [
            stream_reply([_tool_call_stream()[i : i + 5] for i in range(0, 2000, 5)]),
            stream_reply(
                [sse(chat_chunk(tool_calls=[tool_delta(0, '{"a', call_id="c", name="f")]))],
                fail_with=httpx.ReadTimeout("slow"),
            ),
        ]
    )
    client = server.async_client()
    async with client.chat.completions.create_stream(model="m", messages=USER) as stream:
        async for _ in stream:
            pass
    assert _calls(stream.message) == EXPECTED_CALLS
    with pytest.raises(StreamInterruptedError, match="timeout") as info:
        async with client.chat.completions.create_stream(model="m", messages=USER) as stream:
            async for _ in stream:
                pass
    assert _calls(info.value.partial_message) == [("c", "f", '{"a')]
    await client.aclose()


def test_message_arguments_are_the_json_the_model_wrote() -> None:
    _, stream = collect(MockServer([stream_reply([_tool_call_stream()])]))
    calls = stream.message.tool_calls or []
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"}, {"tz": "CET"}]

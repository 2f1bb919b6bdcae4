"""Streams as Atoma really sends them, and streams cut short."""

from __future__ import annotations

import gc

import httpx
import pytest

from atoma_integrations import (
    AtomaError,
    MalformedEventError,
    MalformedResponseError,
    StreamInterruptedError,
)
from tests.support.mock_server import MockServer, chunk, sse, stream_reply

USAGE = {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}


def collect(server: MockServer) -> tuple[list[str], object]:
    with server.client().completions.create_stream(model="m", prompt="p") as stream:
        texts = [c.choices[0].text for c in stream]
    return texts, stream.usage


def test_atoma_stream_without_done_with_keepalives_and_usage_chunk() -> None:
    body = (
        b": keep-alive\n\n" * 5
        + sse(chunk("Hel", response_hash="h1", signature="s1"))
        + b": keep-alive\n\n"
        + sse(chunk("lo", "stop"), {"id": "cmpl-1", "choices": [], "usage": USAGE})
    )
    server = MockServer([stream_reply([body])])
    texts, usage = collect(server)
    assert texts == ["Hel", "lo"]  # the usage-only chunk is not yielded
    assert usage is not None and usage.total_tokens == 7  # type: ignore[attr-defined]


def test_usage_on_every_chunk_keeps_the_last_not_the_sum() -> None:
    events = [
        chunk("a", usage={"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}),
        chunk("b", usage={"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}),
        chunk("", "length", usage=USAGE),
    ]
    server = MockServer([stream_reply([sse(*events, done=True)])])
    texts, usage = collect(server)
    assert texts == ["a", "b", ""]
    assert usage.completion_tokens == 3  # type: ignore[attr-defined]


def test_chat_shaped_deltas_are_read_as_text() -> None:
    first = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]}
    second = {"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}]}
    server = MockServer([stream_reply([sse(first, second, done=True)])])
    texts, _ = collect(server)
    assert texts == ["", "Hi"]


def test_utf8_split_across_reads_and_crlf_framing() -> None:
    body = sse(chunk("héllo ☃"), chunk("!", "stop"), done=True).replace(b"\n", b"\r\n")
    pieces = [body[i : i + 3] for i in range(0, len(body), 3)]
    server = MockServer([stream_reply(pieces)])
    texts, _ = collect(server)
    assert "".join(texts) == "héllo ☃!"


def test_end_without_finish_reason_raises_with_text_and_usage() -> None:
    body = sse(chunk("Once "), chunk("upon", usage=USAGE))
    server = MockServer([stream_reply([body])])
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        with server.client().completions.create_stream(model="m", prompt="p") as stream:
            for c in stream:
                received.append(c.choices[0].text)
    assert received == ["Once ", "upon"]
    assert info.value.text == "Once upon"
    assert info.value.usage is not None and info.value.usage.total_tokens == 7
    assert "finish_reason" in str(info.value)


def test_dropped_connection_raises_with_the_text_so_far() -> None:
    reply = stream_reply([sse(chunk("abc"))], fail_with=httpx.RemoteProtocolError("peer closed"))
    server = MockServer([reply])
    with pytest.raises(StreamInterruptedError) as info:
        collect(server)
    assert info.value.text == "abc"
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)


def test_read_timeout_mid_stream_is_an_interruption() -> None:
    reply = stream_reply([sse(chunk("abc"))], fail_with=httpx.ReadTimeout("slow"))
    with pytest.raises(StreamInterruptedError, match="timeout"):
        collect(MockServer([reply]))


def test_malformed_event_raises_instead_of_being_skipped() -> None:
    body = sse(chunk("ok "), "{not json", chunk("never", "stop"))
    with pytest.raises(StreamInterruptedError, match="malformed") as info:
        collect(MockServer([stream_reply([body])]))
    assert info.value.text == "ok "
    assert isinstance(info.value, AtomaError)
    assert isinstance(info.value, MalformedEventError)
    assert isinstance(info.value, MalformedResponseError)
    assert "not json" in str(info.value)


def test_event_of_the_wrong_shape_is_a_malformed_event_naming_the_field() -> None:
    body = sse(chunk("ok "), {"choices": [{"index": 0, "text": 5}]})
    with pytest.raises(
        MalformedEventError, match=r"completion chunk shape \(choices\.0\.text"
    ) as info:
        collect(MockServer([stream_reply([body])]))
    assert info.value.text == "ok "


def test_error_event_is_an_interruption_not_a_malformed_event() -> None:
    error = {"error": {"code": "INTERNAL_ERROR", "message": "node went away"}}
    with pytest.raises(StreamInterruptedError) as info:
        collect(MockServer([stream_reply([sse(chunk("ok "), error)])]))
    assert not isinstance(info.value, MalformedResponseError)


def test_error_event_inside_the_stream_raises_with_its_message() -> None:
    error = {"error": {"code": "INTERNAL_ERROR", "message": "node went away"}}
    body = sse(chunk("ok "), error)
    with pytest.raises(StreamInterruptedError, match="node went away") as info:
        collect(MockServer([stream_reply([body])]))
    assert info.value.body == error


def test_n_greater_than_one_needs_every_choice_finished() -> None:
    body = sse(chunk("a", index=0), chunk("b", index=1), chunk("", "stop", index=0))
    with pytest.raises(StreamInterruptedError, match=r"\[1\]") as info:
        collect(MockServer([stream_reply([body])]))
    assert info.value.texts == {0: "a", 1: "b"}


def test_break_closes_the_response() -> None:
    server = MockServer([stream_reply([sse(chunk("a")), sse(chunk("b")), sse(chunk("c", "stop"))])])
    with server.client().completions.create_stream(model="m", prompt="p") as stream:
        for _ in stream:
            break
    assert stream.response.is_closed
    assert server.streams[0].closed


def test_dropping_an_unfinished_stream_closes_it() -> None:
    server = MockServer([stream_reply([sse(chunk("a")), sse(chunk("b", "stop"))])])
    stream = server.client().completions.create_stream(model="m", prompt="p")
    next(iter(stream))
    del stream
    gc.collect()
    assert server.streams[0].closed


def test_done_reads_the_rest_of_the_body_then_closes() -> None:
    server = MockServer([stream_reply([sse(chunk("a", "stop"), done=True), b""])])
    texts, _ = collect(server)
    assert texts == ["a"]
    assert server.streams[0].closed


async def test_async_stream_collects_text_and_usage() -> None:
    body = sse(chunk("x"), chunk("y", "stop"), {"choices": [], "usage": USAGE})
    server = MockServer([stream_reply([body[:7], body[7:]])])
    client = server.async_client()
    async with client.completions.create_stream(model="m", prompt="p") as stream:
        texts = [c.choices[0].text async for c in stream]
    assert texts == ["x", "y"]
    assert stream.usage is not None and stream.usage.total_tokens == 7


async def test_async_stream_is_sent_when_awaited_not_when_created() -> None:
    server = MockServer([stream_reply([sse(chunk("x", "stop"))])])
    opener = server.async_client().completions.create_stream(model="m", prompt="p")
    assert server.requests == []
    stream = await opener
    assert len(server.requests) == 1
    assert stream.response.status_code == 200
    assert [c.choices[0].text async for c in stream] == ["x"]
    assert server.streams[0].closed


async def test_async_stream_not_opened_cannot_be_iterated_and_says_how_to_open_it() -> None:
    server = MockServer([stream_reply([sse(chunk("x", "stop"))])])
    opener = server.async_client().completions.create_stream(model="m", prompt="p")
    with pytest.raises(TypeError, match="async with"):
        async for _ in opener:  # type: ignore[attr-defined]
            pass
    assert server.requests == []


async def test_async_break_closes_the_response() -> None:
    server = MockServer([stream_reply([sse(chunk("a")), sse(chunk("b", "stop"))])])
    async with server.async_client().completions.create_stream(model="m", prompt="p") as stream:
        async for _ in stream:
            break
    assert server.streams[0].closed


async def test_async_interruption_carries_text() -> None:
    reply = stream_reply([sse(chunk("abc"))], fail_with=httpx.RemoteProtocolError("gone"))
    server = MockServer([reply])
    with pytest.raises(StreamInterruptedError) as info:
        async with server.async_client().completions.create_stream(model="m", prompt="p") as s:
            async for _ in s:
                pass
    assert info.value.text == "abc"

"""Property tests of stream decoding: network splits never change what the caller gets.

Hypothesis builds valid streams (any Unicode text, several choices, usage on some
chunks, usage-only chunks, keep-alive comments, events spread over several ``data:``
lines, ``\\n`` / ``\\r\\n`` / ``\\r`` line ends, with or without ``[DONE]``), cuts the
bytes at arbitrary points, including inside multi-byte characters and between ``\\r``
and ``\\n``, and checks that ``SSEDecoder`` + ``StreamState`` give exactly the chunks,
text and usage of the unsplit stream. A second property checks that any sequence of
chunks survives serialization to SSE and decoding unchanged. A third does the same for
chat streams: content and several tool calls whose pieces interleave by index, with the
id and name sent once (OpenAI) or in every piece (llama.cpp), give the same
``stream.message`` however the bytes are split.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoma_integrations import ChatCompletionMessage, CompletionChunk, Usage
from atoma_integrations._chat_stream_state import ChatStreamState
from atoma_integrations._sse import SSEDecoder
from atoma_integrations._stream_state import StreamState

# Modest example counts: the suite runs on a 2-core CI machine.
SPLIT_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ROUND_TRIP_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

texts = st.text(max_size=12)  # any Unicode (no lone surrogates): emoji, CJK, U+2028 ...
usages = st.builds(
    lambda p, c: {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
    st.integers(0, 10_000),
    st.integers(0, 10_000),
)
logprobs = st.none() | st.builds(
    lambda tokens, lp: {
        "tokens": tokens,
        "token_logprobs": [lp] * len(tokens),
        "top_logprobs": [{t: lp} for t in tokens],
        "text_offset": list(range(len(tokens))),
    },
    st.lists(texts, max_size=2),
    st.floats(-50, 0, allow_nan=False),
)


@st.composite
def choice_dicts(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """One choice as a server sends it: legacy ``text`` or chat ``delta.content``."""
    text = draw(texts)
    choice: dict[str, Any] = {
        "index": index,
        "finish_reason": draw(st.sampled_from([None, None, "stop", "length"])),
        "logprobs": draw(logprobs),
    }
    if draw(st.booleans()):
        choice["text"] = text
    else:
        choice["delta"] = {"content": text}
    return choice


@st.composite
def chunk_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A chunk: one or two choices, or a usage-only chunk; Atoma's extra fields."""
    usage_only = draw(st.integers(0, 9)) == 0
    choices = (
        []
        if usage_only
        else [draw(choice_dicts(i)) for i in sorted(draw(st.sets(st.integers(0, 1), min_size=1)))]
    )
    return {
        "id": "cmpl-" + draw(st.text("abcdef0123456789", max_size=8)),
        "object": "text_completion",
        "created": draw(st.integers(0, 2**31)),
        "model": draw(texts),
        "choices": choices,
        "usage": draw(usages) if usage_only or draw(st.booleans()) else None,
        "response_hash": draw(texts),
        "signature": draw(texts),
    }


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]]]:
    """A valid SSE body and the chunk dicts it carries."""
    chunks = draw(st.lists(chunk_dicts(), min_size=1, max_size=8))
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    body = b""
    for chunk in chunks:
        for _ in range(draw(st.integers(0, 2))):
            body += b": keep-alive" + newline + newline
        space = draw(st.sampled_from([b" ", b""]))  # "data:x" and "data: x" are both valid
        if draw(st.booleans()):
            payload = json.dumps(chunk, ensure_ascii=False).encode()
            body += b"data:" + space + payload + newline
        else:
            # One event over several data: lines, which the decoder joins with "\n".
            lines = json.dumps(chunk, ensure_ascii=False, indent=1).encode().split(b"\n")
            body += b"".join(b"data: " + line + newline for line in lines)
        body += newline
    if draw(st.booleans()):
        body += b"data: [DONE]" + newline + newline
    return body, chunks


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    edges = [0, *points, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(edges) if b > a]


def _decode(pieces: list[bytes], state: Any = None) -> tuple[list[Any], Any]:
    decoder = SSEDecoder()
    state = StreamState() if state is None else state
    out: list[Any] = []
    payloads = [p for piece in pieces for p in decoder.feed(piece)] + decoder.flush()
    for payload in payloads:
        chunk = state.decode(payload)
        if chunk is not None:
            out.append(chunk)
        elif state.done:
            break
    return out, state


@SPLIT_SETTINGS
@given(stream=sse_streams(), cuts=st.lists(st.integers(0, 10_000), max_size=30))
def test_any_split_into_network_reads_decodes_to_the_same_chunks(
    stream: tuple[bytes, list[dict[str, Any]]], cuts: list[int]
) -> None:
    body, chunks = stream
    whole, whole_state = _decode([body])
    split, split_state = _decode(_split(body, cuts))
    bytewise, _ = _decode([body[i : i + 1] for i in range(len(body))])

    expected = [CompletionChunk.model_validate(c) for c in chunks if c["choices"]]
    assert whole == expected
    assert split == expected
    assert bytewise == expected
    assert split_state.texts == whole_state.texts
    assert split_state.usage == whole_state.usage
    last_usage = [c["usage"] for c in chunks if c["usage"] is not None]
    assert split_state.usage == (Usage.model_validate(last_usage[-1]) if last_usage else None)


@ROUND_TRIP_SETTINGS
@given(chunk_list=st.lists(chunk_dicts(), max_size=10))
def test_any_sequence_of_chunks_round_trips_through_sse(chunk_list: list[dict[str, Any]]) -> None:
    originals = [CompletionChunk.model_validate(c) for c in chunk_list]
    body = b"".join(b"data: " + c.model_dump_json().encode() + b"\n\n" for c in originals)

    decoded, state = _decode([body])

    assert decoded == [c for c in originals if c.choices]
    texts_by_index: dict[int, str] = {}
    for c in originals:
        for choice in c.choices:
            if choice.text:
                texts_by_index[choice.index] = texts_by_index.get(choice.index, "") + choice.text
    assert state.texts == texts_by_index
    usages_seen = [c.usage for c in originals if c.usage is not None]
    assert state.usage == (usages_seen[-1] if usages_seen else None)


# --- Chat: tool calls merged by index, whatever the split --------------------------------

names = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)


@st.composite
def chat_streams(draw: st.DrawFn) -> tuple[bytes, ChatCompletionMessage]:
    """A chat stream (content pieces and interleaved tool-call pieces) and its message."""
    repeat_id_and_name = draw(st.booleans())  # llama.cpp repeats them in every piece
    calls = []
    for index in range(draw(st.integers(0, 3))):
        pieces = draw(st.lists(texts, min_size=1, max_size=5))
        calls.append((index, f"call_{index}", draw(names), pieces))
    content = draw(st.lists(texts, max_size=4))
    # Every piece in a random order that keeps each call's (and the content's) own order.
    queue: list[tuple[str, int]] = [("content", i) for i in range(len(content))]
    queue += [("call", c) for c, (_, _, _, pieces) in enumerate(calls) for _ in pieces]
    order = draw(st.permutations(queue))
    seen: dict[int, int] = {}
    events: list[dict[str, Any]] = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    content_at = 0
    for kind, which in order:
        if kind == "content":
            delta: dict[str, Any] = {"content": content[content_at]}
            content_at += 1
        else:
            index, call_id, name, pieces = calls[which]
            n = seen.get(which, 0)
            seen[which] = n + 1
            piece: dict[str, Any] = {"index": index, "function": {"arguments": pieces[n]}}
            if n == 0 or repeat_id_and_name:
                piece.update(id=call_id, type="function")
                piece["function"]["name"] = name
            delta = {"tool_calls": [piece]}
        events.append({"choices": [{"index": 0, "delta": delta}]})
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    body = b"".join(
        b"data: " + json.dumps(e, ensure_ascii=False).encode() + newline + newline for e in events
    )
    if draw(st.booleans()):
        body += b"data: [DONE]" + newline + newline
    tool_calls = [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": "".join(p)}}
        for _, call_id, name, p in calls
    ]
    expected = ChatCompletionMessage.model_validate(
        {
            "role": "assistant",
            "content": "".join(content) if "".join(content) else (None if calls else ""),
            "tool_calls": tool_calls or None,
        }
    )
    return body, expected


@SPLIT_SETTINGS
@given(stream=chat_streams(), cuts=st.lists(st.integers(0, 10_000), max_size=30))
def test_chat_tool_calls_merge_the_same_whatever_the_split(
    stream: tuple[bytes, ChatCompletionMessage], cuts: list[int]
) -> None:
    body, expected = stream
    for pieces in ([body], _split(body, cuts), [body[i : i + 1] for i in range(len(body))]):
        _, state = _decode(pieces, ChatStreamState())
        state.finish()
        assert state.message() == expected

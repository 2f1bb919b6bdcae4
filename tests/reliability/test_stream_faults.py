"""What goes wrong inside a stream: drops, missing ends, bad events, floods, split bytes, stalls.

The rule under test: a stream either delivers every token and a ``finish_reason``, or it
raises :class:`StreamInterruptedError` carrying the text that did arrive; nothing is
silently truncated, and nothing is retried once text was delivered.
"""

from __future__ import annotations

import httpx
import pytest

from atoma_integrations import (
    APITimeoutError,
    AsyncAtomaClient,
    AtomaClient,
    StreamInterruptedError,
)
from tests.support.fault_server import (
    DONE,
    FaultServer,
    Pause,
    Reply,
    Step,
    Stream,
    Write,
    async_wait_until,
    chunk,
    completion_reply,
    completion_stream,
    sse,
    usage,
)

from ._runs import MODES, run_create, run_stream

TEXTS = ["Once", " upon", " a", " time", ",", " there"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
@pytest.mark.parametrize("k", [1, 3, 5])
async def test_drop_after_k_events_raises_with_the_text_received_and_is_not_retried(
    fault_server: FaultServer, backoff: list[float], k: int, reset: bool, mode: str
) -> None:
    fault_server.always(completion_stream(TEXTS, drop_after=k, reset=reset))

    outcome = await run_stream(mode, fault_server.url, max_retries=3)

    assert isinstance(outcome.error, StreamInterruptedError)
    assert outcome.error.text == "".join(TEXTS[:k])
    assert outcome.text == outcome.error.text  # the user had exactly these chunks
    assert "interrupted" in str(outcome.error)
    assert isinstance(outcome.error.__cause__, httpx.HTTPError)
    assert len(fault_server.requests) == 1
    assert backoff == []


@pytest.mark.parametrize("mode", MODES)
async def test_drop_before_the_first_event_raises_with_no_text(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    # The 200 and its headers arrived, so the request was accepted; the client does not
    # resend it (the server may already be generating and billing it).
    fault_server.always(completion_stream(TEXTS, drop_after=0))

    outcome = await run_stream(mode, fault_server.url, max_retries=3)

    assert isinstance(outcome.error, StreamInterruptedError)
    assert outcome.error.text == ""
    assert "no text arrived" in str(outcome.error)
    assert len(fault_server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_end_without_done_but_with_finish_reason_is_a_complete_stream(
    fault_server: FaultServer, mode: str
) -> None:
    # Atoma's proxy never sends [DONE]: the finish_reason and the end of the body suffice.
    fault_server.always(completion_stream(TEXTS, done=False, usage_chunk=usage(5, 6)))

    outcome = await run_stream(mode, fault_server.url)

    assert outcome.error is None
    assert outcome.text == "".join(TEXTS)
    assert outcome.finish_reason == "stop"
    assert outcome.usage is not None and outcome.usage.completion_tokens == 6


@pytest.mark.parametrize("mode", MODES)
async def test_connection_close_framing_without_done_is_a_complete_stream(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(completion_stream(TEXTS, done=False, chunked=False))

    outcome = await run_stream(mode, fault_server.url)

    assert outcome.error is None
    assert outcome.text == "".join(TEXTS)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("done", [False, True], ids=["no-done", "done"])
async def test_end_without_finish_reason_raises_with_the_text(
    fault_server: FaultServer, done: bool, mode: str
) -> None:
    # What Atoma does when its upstream read breaks: the body just ends, cleanly framed.
    fault_server.always(completion_stream(TEXTS, finish_reason=None, done=done))

    outcome = await run_stream(mode, fault_server.url)

    assert isinstance(outcome.error, StreamInterruptedError)
    assert outcome.error.text == "".join(TEXTS)
    assert "finish_reason" in str(outcome.error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "bad",
    [b'{"id": "cmpl-1", "choices": [{"text": "x"', b"not json at all", b'{"choices": 7}'],
    ids=["truncated-json", "not-json", "wrong-shape"],
)
async def test_a_malformed_event_raises_with_the_text_before_it(
    fault_server: FaultServer, backoff: list[float], bad: bytes, mode: str
) -> None:
    steps = [Write(sse(chunk(t))) for t in TEXTS[:2]]
    steps += [Write(sse(bad)), Write(sse(chunk(" never", finish_reason="stop"))), Write(DONE)]
    fault_server.always(Stream(steps))

    outcome = await run_stream(mode, fault_server.url, max_retries=2)

    assert isinstance(outcome.error, StreamInterruptedError)  # an AtomaError, never skipped
    assert outcome.error.text == "Once upon"
    assert "never" not in outcome.text
    assert len(fault_server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_an_error_event_mid_stream_raises_with_code_message_and_text(
    fault_server: FaultServer, mode: str
) -> None:
    error = {"error": {"code": "INTERNAL_ERROR", "message": "node crashed"}}
    fault_server.always(Stream([Write(sse(chunk("Hi"))), Write(sse(error))]))

    outcome = await run_stream(mode, fault_server.url)

    assert isinstance(outcome.error, StreamInterruptedError)
    assert outcome.error.text == "Hi"
    assert outcome.error.body == error
    assert "INTERNAL_ERROR" in str(outcome.error) and "node crashed" in str(outcome.error)


@pytest.mark.parametrize("mode", MODES)
async def test_keep_alive_comment_flood_is_skipped(fault_server: FaultServer, mode: str) -> None:
    flood = b": keep-alive\n\n"
    steps: list[Write | Pause] = [Write(flood * 20_000)]  # 280 kB of comments in one go
    for text in TEXTS:
        steps += [Write(flood)] * 150  # and many tiny writes between events
        steps.append(Write(sse(chunk(text))))
    steps += [Write(b":\n\n" * 500), Write(sse(chunk("", finish_reason="stop"))), Write(DONE)]
    fault_server.always(Stream(steps))

    outcome = await run_stream(mode, fault_server.url)

    assert outcome.error is None
    assert outcome.text == "".join(TEXTS)
    assert len(outcome.chunks) == len(TEXTS) + 1


@pytest.mark.parametrize("mode", MODES)
async def test_keep_alives_keep_a_slow_stream_alive_past_the_read_timeout(
    fault_server: FaultServer, mode: str
) -> None:
    # 0.6 s without a token, but a comment every 50 ms: the 0.3 s read timeout never fires.
    steps: list[Write | Pause] = [Write(sse(chunk("slow")))]
    steps += [Write(b": keep-alive\n\n"), Pause(0.05)] * 12
    steps += [Write(sse(chunk(" end", finish_reason="stop")))]
    fault_server.always(Stream(steps))

    outcome = await run_stream(mode, fault_server.url, timeout=0.3)

    assert outcome.error is None
    assert outcome.text == "slow end"
    assert outcome.elapsed >= 0.6


@pytest.mark.parametrize("mode", MODES)
async def test_usage_on_every_chunk_is_the_last_one_not_a_sum(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(completion_stream(TEXTS, usage_every_chunk=True))

    outcome = await run_stream(mode, fault_server.url)

    assert outcome.error is None
    assert outcome.usage is not None
    assert outcome.usage.completion_tokens == len(TEXTS)
    assert outcome.usage.total_tokens == 5 + len(TEXTS)


@pytest.mark.parametrize("mode", MODES)
async def test_usage_only_final_chunk_updates_usage_and_yields_no_empty_chunk(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(completion_stream(TEXTS, usage_chunk=usage(4, 6)))

    outcome = await run_stream(mode, fault_server.url)

    assert outcome.error is None
    assert all(c.choices for c in outcome.chunks)  # chunk.choices[0] is always safe
    assert outcome.usage is not None and outcome.usage.total_tokens == 10


@pytest.mark.parametrize("mode", MODES)
async def test_chat_shaped_chunks_are_read_as_text(fault_server: FaultServer, mode: str) -> None:
    role_only = chunk(chat=True)
    role_only["choices"][0]["delta"] = {"role": "assistant", "content": None}
    steps: list[Step] = [Write(sse(role_only))]
    steps += completion_stream(TEXTS, chat=True).iter_steps()
    fault_server.always(Stream(steps))

    outcome = await run_stream(mode, fault_server.url)

    assert outcome.error is None
    assert outcome.text == "".join(TEXTS)
    assert outcome.finish_reason == "stop"


@pytest.mark.parametrize("mode", MODES)
async def test_utf8_characters_split_across_writes_arrive_whole(
    fault_server: FaultServer, mode: str
) -> None:
    texts = [
        "h\u00e9",
        "llo ",
        "\U0001f600",
        " \u65e5\u672c\u8a9e",
        " \u0645\u0631\u062d\u0628\u0627",
        "!",
    ]
    steps: list[Write | Pause] = []
    for text in texts:
        event = sse(chunk(text))
        assert text.isascii() or max(event) >= 0x80  # raw UTF-8 bytes, not \u escapes
        # One write per byte, each flushed and followed by a pause, so that the bytes of
        # every multi-byte character reach the client in separate network reads.
        for i in range(len(event)):
            steps.append(Write(event[i : i + 1]))
            if event[i] >= 0x80:
                steps.append(Pause(0.002))
    steps += [Write(sse(chunk("", finish_reason="stop")))]
    fault_server.always(Stream(steps))

    outcome = await run_stream(mode, fault_server.url)

    assert outcome.error is None
    assert outcome.text == "".join(texts)
    assert outcome.pieces[:-1] == texts


@pytest.mark.parametrize("mode", MODES)
async def test_utf8_split_in_a_whole_completion_body(fault_server: FaultServer, mode: str) -> None:
    body = completion_reply("caf\u00e9 \U0001f680").body
    cut = body.index("\U0001f680".encode()) + 2  # in the middle of the rocket's 4 bytes
    fault_server.always(
        Stream([Write(body[:cut]), Pause(0.01), Write(body[cut:])], content_type="application/json")
    )

    outcome = await run_create(mode, fault_server.url)

    assert outcome.error is None
    assert outcome.text == "caf\u00e9 \U0001f680"


# --- Timeouts: they fire, with the value configured -------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["create", "stream"])
async def test_stall_before_headers_times_out_after_the_configured_timeout(
    fault_server: FaultServer, kind: str, mode: str
) -> None:
    fault_server.always(Reply(200, b"{}", delay=5.0))
    run = run_create if kind == "create" else run_stream

    outcome = await run(mode, fault_server.url, timeout=0.3)

    assert isinstance(outcome.error, APITimeoutError)
    assert "timed out" in str(outcome.error)
    assert 0.28 <= outcome.elapsed < 1.5
    # On a loaded machine the server thread may record the request after the client gave
    # up: wait for it, then check there was exactly one (no retry).
    await async_wait_until(lambda: len(fault_server.requests) >= 1, timeout=2.0)
    assert len(fault_server.requests) == 1
    # The client gave up and hung up; the server saw it.
    assert await async_wait_until(lambda: fault_server.requests[0].disconnected)


@pytest.mark.parametrize("mode", MODES)
async def test_a_per_call_timeout_overrides_the_client_timeout(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(Reply(200, b"{}", delay=5.0))

    outcome = await run_create(mode, fault_server.url, timeout=30.0, call_timeout=0.2)

    assert isinstance(outcome.error, APITimeoutError)
    assert 0.18 <= outcome.elapsed < 1.5


@pytest.mark.parametrize("mode", MODES)
async def test_timeouts_are_retried_max_retries_times(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.always(Reply(200, b"{}", delay=5.0))

    outcome = await run_create(mode, fault_server.url, timeout=0.15, max_retries=2)

    assert isinstance(outcome.error, APITimeoutError)
    assert len(fault_server.requests) == 3
    assert len(backoff) == 2
    assert 0.45 <= outcome.elapsed < 2.5


@pytest.mark.parametrize("mode", MODES)
async def test_stall_between_events_raises_interrupted_after_the_read_timeout(
    fault_server: FaultServer, backoff: list[float], mode: str
) -> None:
    fault_server.always(
        Stream([Write(sse(chunk("Hel"))), Write(sse(chunk("lo"))), Pause(5.0), Write(DONE)])
    )

    outcome = await run_stream(mode, fault_server.url, timeout=0.3, max_retries=2)

    assert isinstance(outcome.error, StreamInterruptedError)
    assert outcome.error.text == "Hello"
    assert "read timeout" in str(outcome.error)
    assert isinstance(outcome.error.__cause__, httpx.ReadTimeout)
    assert 0.28 <= outcome.elapsed < 1.5
    assert len(fault_server.requests) == 1  # text was delivered: never retried
    assert await async_wait_until(lambda: fault_server.requests[0].disconnected)


@pytest.mark.parametrize("mode", MODES)
async def test_a_finished_stream_returns_its_connection_to_the_pool(
    fault_server: FaultServer, mode: str
) -> None:
    fault_server.always(completion_stream(TEXTS, usage_chunk=usage(5, 6)))
    params = {"model": "m", "prompt": "p", "max_tokens": 8}
    if mode == "sync":
        with AtomaClient(base_url=fault_server.url, max_retries=0) as client:
            for _ in range(5):
                with client.completions.create_stream(**params) as s:
                    assert "".join(c.choices[0].text for c in s) == "".join(TEXTS)
    else:
        async with AsyncAtomaClient(base_url=fault_server.url, max_retries=0) as aclient:
            for _ in range(5):
                async with aclient.completions.create_stream(**params) as a:
                    assert "".join([c.choices[0].text async for c in a]) == "".join(TEXTS)

    assert [r.connection for r in fault_server.requests] == [1] * 5
    assert fault_server.connections_opened == 1

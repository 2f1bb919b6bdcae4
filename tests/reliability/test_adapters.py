"""The same faults through the adapters: LangChain's ``AtomaLLM`` and ``ChatAtoma``, and
LlamaIndex's ``Atoma`` and ``AtomaChat``.

The adapters own no HTTP, retry or SSE logic, so what the client guarantees must reach
the framework user unchanged: the documented typed error with its status, code, message
and request id; exactly ``max_retries`` retries (no second retry layer in the framework);
no retry once text was streamed, and an interruption that carries the text; bad settings
and bad per-call values named before any request; and an early exit from a framework
stream that closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from atoma_integrations import (
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    InsufficientBalanceError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    StreamInterruptedError,
)
from atoma_integrations.langchain import AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat
from tests.support.fault_server import (
    FaultServer,
    Reply,
    async_wait_until,
    completion_reply,
    completion_stream,
    endless_stream,
    error_reply,
    wait_until,
)

from ._runs import Outcome

ENTRY_POINTS = [
    "langchain.invoke",
    "langchain.invoke-streaming",
    "langchain.ainvoke",
    "langchain.stream",
    "langchain.astream",
    # ChatAtoma: the fault server answers in chat shape for these (see conftest).
    "langchain_chat.invoke",
    "langchain_chat.invoke-streaming",
    "langchain_chat.ainvoke",
    "langchain_chat.stream",
    "langchain_chat.astream",
    "llama_index.complete",
    "llama_index.acomplete",
    "llama_index.stream_complete",
    "llama_index.astream_complete",
    # AtomaChat: answered in chat shape too (its prefix ends in "_chat").
    "llama_index_chat.chat",
    "llama_index_chat.achat",
    "llama_index_chat.stream_chat",
    "llama_index_chat.astream_chat",
]
STREAMING = [e for e in ENTRY_POINTS if "stream" in e]


def _make(entry: str, url: str, **settings: Any) -> Any:
    common = {"model": "fault-model", "base_url": url, "max_tokens": 8, **settings}
    if entry.startswith("langchain_chat"):
        # Only when set: langchain-core reads an explicit streaming=False on a chat model as
        # "never stream", even in .stream().
        if entry.endswith("-streaming"):
            common["streaming"] = True
        return ChatAtoma(**common)
    if entry.startswith("langchain"):
        return AtomaLLM(streaming=entry.endswith("-streaming"), **common)
    # A known window: LlamaIndex would otherwise ask the (fault) server for it.
    if entry.startswith("llama_index_chat"):
        return AtomaChat(context_window=2048, **common)
    return Atoma(context_window=2048, **common)


def _messages(prompt: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=prompt)]


def _text(result: Any) -> str:
    """The text of what LangChain returns: a str (LLM) or a message (chat model)."""
    return result if isinstance(result, str) else str(result.content)


async def run_adapter(entry: str, url: str, prompt: str = "hi", **settings: Any) -> Outcome:
    """One call through an adapter's entry point; the text the user got, or the error."""
    llm = _make(entry, url, **settings)
    outcome = Outcome()
    start = time.monotonic()
    try:
        method = entry.split(".")[1].removesuffix("-streaming")
        if method == "invoke":
            outcome.text = _text(llm.invoke(prompt))
        elif method == "ainvoke":
            outcome.text = _text(await llm.ainvoke(prompt))
        elif method == "stream":
            for token in llm.stream(prompt):
                outcome.text += _text(token)
        elif method == "astream":
            async for token in llm.astream(prompt):
                outcome.text += _text(token)
        elif method == "complete":
            outcome.text = llm.complete(prompt).text
        elif method == "acomplete":
            outcome.text = (await llm.acomplete(prompt)).text
        elif method == "stream_complete":
            for response in llm.stream_complete(prompt):
                outcome.text = response.text
        elif method == "astream_complete":
            async for response in await llm.astream_complete(prompt):
                outcome.text = response.text
        elif method == "chat":
            outcome.text = llm.chat(_messages(prompt)).message.content or ""
        elif method == "achat":
            outcome.text = (await llm.achat(_messages(prompt))).message.content or ""
        elif method == "stream_chat":
            for chat_response in llm.stream_chat(_messages(prompt)):
                outcome.text = chat_response.message.content or ""
        elif method == "astream_chat":
            async for chat_response in await llm.astream_chat(_messages(prompt)):
                outcome.text = chat_response.message.content or ""
        else:
            raise AssertionError(entry)
    except Exception as exc:
        outcome.error = exc
    outcome.elapsed = time.monotonic() - start
    return outcome


FAULTS = [
    (401, "AUTH_ERROR", "Authentication failed", AuthenticationError),
    (400, "FIAT_PAYMENTS_ONLY", "Only fiat payments are supported", InsufficientBalanceError),
    (404, "NOT_FOUND", "Resource not found", NotFoundError),
    (429, "TOO_MANY_REQUESTS", "Too many requests", RateLimitError),
    (503, "SERVICE_UNAVAILABLE", "Service unavailable", InternalServerError),
]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: str(f[0]))
async def test_adapter_raises_the_typed_error_with_its_details(
    fault_server: FaultServer, fault: tuple[int, str, str, type[APIStatusError]], entry: str
) -> None:
    status, code, message, expected = fault
    fault_server.always(error_reply(status, code=code, message=message, request_id="req-ad"))

    outcome = await run_adapter(entry, fault_server.url, max_retries=0)

    assert isinstance(outcome.error, expected), repr(outcome.error)
    assert outcome.error.status_code == status
    assert outcome.error.code == code
    assert outcome.error.request_id == "req-ad"
    assert message in str(outcome.error)
    assert len(fault_server.completions_requests()) == 1


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("max_retries", [0, 2])
async def test_adapter_retries_exactly_max_retries_times_in_total(
    fault_server: FaultServer, backoff: list[float], max_retries: int, entry: str
) -> None:
    # One retry layer only: the framework must not retry what the client already did.
    fault_server.always(error_reply(500))

    outcome = await run_adapter(entry, fault_server.url, max_retries=max_retries)

    assert isinstance(outcome.error, InternalServerError)
    assert len(fault_server.completions_requests()) == max_retries + 1
    assert len(backoff) == max_retries


@pytest.mark.parametrize("entry", ENTRY_POINTS)
async def test_adapter_recovers_from_n_failures(
    fault_server: FaultServer, backoff: list[float], entry: str
) -> None:
    fault_server.enqueue(error_reply(503), error_reply(429))
    fault_server.always(
        completion_stream(["Hel", "lo"]) if "stream" in entry else completion_reply("Hello")
    )

    outcome = await run_adapter(entry, fault_server.url, max_retries=2)

    assert outcome.error is None
    assert outcome.text == "Hello"
    assert len(fault_server.completions_requests()) == 3


@pytest.mark.parametrize("entry", STREAMING)
async def test_adapter_stream_cut_after_text_is_not_retried_and_keeps_the_text(
    fault_server: FaultServer, backoff: list[float], entry: str
) -> None:
    fault_server.always(completion_stream(["Once", " upon", " a"], drop_after=2))

    outcome = await run_adapter(entry, fault_server.url, max_retries=3)

    assert isinstance(outcome.error, StreamInterruptedError), repr(outcome.error)
    assert outcome.error.text == "Once upon"
    assert len(fault_server.completions_requests()) == 1
    assert backoff == []


@pytest.mark.parametrize("entry", STREAMING)
async def test_adapter_stream_without_finish_reason_is_an_interruption(
    fault_server: FaultServer, entry: str
) -> None:
    fault_server.always(completion_stream(["Once", " upon"], finish_reason=None, done=False))

    outcome = await run_adapter(entry, fault_server.url, max_retries=0)

    assert isinstance(outcome.error, StreamInterruptedError)
    assert outcome.error.text == "Once upon"


@pytest.mark.parametrize("entry", STREAMING)
async def test_adapter_stream_with_atoma_quirks_gives_the_whole_text(
    fault_server: FaultServer, entry: str
) -> None:
    # No [DONE], usage on every chunk, split UTF-8 handled below the adapter.
    fault_server.always(
        completion_stream(["caf\u00e9", " \U0001f680", "!"], done=False, usage_every_chunk=True)
    )

    outcome = await run_adapter(entry, fault_server.url, max_retries=0)

    assert outcome.error is None
    assert outcome.text == "caf\u00e9 \U0001f680!"


# --- Bad input: named, and nothing sent ---------------------------------------------------

BAD_SETTINGS: list[tuple[str, Any, str]] = [
    ("temperature", 2.5, "temperature"),
    ("top_p", -0.1, "top_p"),
    ("max_tokens", 0, "max_tokens"),
    ("stop", ["a", "b", "c", "d", "e"], "stop"),
    ("logit_bias", {"abc": 1.0}, "logit_bias"),
    ("logprobs", 21, "logprobs"),
    ("presence_penalty", 3.0, "presence_penalty"),
    ("frequency_penalty", -3.0, "frequency_penalty"),
    ("model", "", "model"),
    ("timeout", -1.0, "timeout"),
    ("max_retries", -1, "max_retries"),
    ("base_url", "not a url", "base_url"),
]


@pytest.mark.parametrize(
    "adapter", ["langchain", "langchain_chat", "llama_index", "llama_index_chat"]
)
@pytest.mark.parametrize(("name", "value", "field"), BAD_SETTINGS, ids=[s[0] for s in BAD_SETTINGS])
def test_adapter_rejects_a_bad_setting_naming_it(
    fault_server: FaultServer, adapter: str, name: str, value: Any, field: str
) -> None:
    with pytest.raises(ValueError) as error:
        _make(f"{adapter}.x", fault_server.url, **{name: value})
    assert field in str(error.value)
    assert fault_server.requests == []


BAD_CALLS: list[tuple[str, Any]] = [
    ("temperature", 5.0),
    ("max_tokens", -1),
    ("top_p", 2.0),
    ("logprobs", 99),
    ("stop", ["a", "b", "c", "d", "e"]),
]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("name", "value"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
async def test_adapter_rejects_a_bad_per_call_value_before_sending(
    fault_server: FaultServer, entry: str, name: str, value: Any
) -> None:
    fault_server.always(completion_reply())
    llm = _make(entry, fault_server.url)
    method = entry.split(".")[1].removesuffix("-streaming")

    with pytest.raises((ValueError, TypeError)) as error:
        if method in ("invoke", "complete"):
            getattr(llm, method)("hi", **{name: value})
        elif method in ("ainvoke", "acomplete"):
            await getattr(llm, method)("hi", **{name: value})
        elif method in ("stream", "stream_complete"):
            for _ in getattr(llm, method)("hi", **{name: value}):
                pass
        elif method == "astream":
            async for _ in llm.astream("hi", **{name: value}):
                pass
        elif method == "chat":
            llm.chat(_messages("hi"), **{name: value})
        elif method == "achat":
            await llm.achat(_messages("hi"), **{name: value})
        elif method == "stream_chat":
            for _ in llm.stream_chat(_messages("hi"), **{name: value}):
                pass
        elif method == "astream_chat":
            async for _ in await llm.astream_chat(_messages("hi"), **{name: value}):
                pass
        else:
            async for _ in await llm.astream_complete("hi", **{name: value}):
                pass

    assert name in str(error.value)
    assert fault_server.requests == []


# --- Early exit from a framework stream closes the connection --------------------------


def _hung_up(server: FaultServer) -> Callable[[], bool]:
    return lambda: bool(server.requests) and server.requests[-1].ended is not None


def _assert_hung_up_soon(server: FaultServer, left_at: float) -> None:
    record = server.requests[-1]
    assert record.disconnected
    assert record.ended is not None and record.ended - left_at < 1.0


@pytest.mark.parametrize(
    "entry",
    [
        "langchain.stream",
        "langchain_chat.stream",
        "llama_index.stream_complete",
        "llama_index_chat.stream_chat",
    ],
)
def test_adapter_break_closes_the_connection(fault_server: FaultServer, entry: str) -> None:
    fault_server.always(endless_stream())
    llm = _make(entry, fault_server.url, max_retries=0)
    method = getattr(llm, entry.split(".")[1])
    prompt: Any = _messages("hi") if entry.startswith("llama_index_chat") else "hi"

    for i, _ in enumerate(method(prompt)):
        if i == 3:
            break
    left_at = time.monotonic()

    assert wait_until(_hung_up(fault_server))
    _assert_hung_up_soon(fault_server, left_at)


@pytest.mark.parametrize("entry", ["llama_index.stream_complete", "llama_index_chat.stream_chat"])
def test_llama_index_generator_dropped_unread_closes_the_connection(
    fault_server: FaultServer, entry: str
) -> None:
    fault_server.always(endless_stream())
    llm = _make(entry, fault_server.url, max_retries=0)

    # The request is sent; the generator is dropped unread.
    if entry.startswith("llama_index_chat"):
        llm.stream_chat(_messages("hi"))
    else:
        llm.stream_complete("hi")
    left_at = time.monotonic()

    assert wait_until(_hung_up(fault_server))
    _assert_hung_up_soon(fault_server, left_at)


@pytest.mark.parametrize(
    "entry",
    [
        "langchain.astream",
        "langchain_chat.astream",
        "llama_index.astream_complete",
        "llama_index_chat.astream_chat",
    ],
)
@pytest.mark.parametrize("how", ["break", "cancel"])
async def test_adapter_async_early_exit_closes_the_connection(
    fault_server: FaultServer, entry: str, how: str
) -> None:
    fault_server.always(endless_stream())
    llm = _make(entry, fault_server.url, max_retries=0)
    received = asyncio.Event()

    async def consume() -> None:
        if entry.endswith(".astream"):
            stream = llm.astream("hi")
        elif entry == "llama_index_chat.astream_chat":
            stream = await llm.astream_chat(_messages("hi"))
        else:
            stream = await llm.astream_complete("hi")
        i = 0
        async for _ in stream:
            received.set()
            i += 1
            if how == "break" and i == 3:
                break  # no aclose(): dropping the generator must be enough

    if how == "break":
        await consume()
    else:
        task = asyncio.create_task(consume())
        await asyncio.wait_for(received.wait(), 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    left_at = time.monotonic()

    assert await async_wait_until(_hung_up(fault_server))
    _assert_hung_up_soon(fault_server, left_at)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
async def test_adapter_timeout_setting_fires_on_a_stalled_server(
    fault_server: FaultServer, entry: str
) -> None:
    fault_server.always(Reply(200, b"{}", delay=5.0))

    outcome = await run_adapter(entry, fault_server.url, timeout=0.2, max_retries=0)

    assert isinstance(outcome.error, APITimeoutError), repr(outcome.error)
    assert 0.18 <= outcome.elapsed < 1.5

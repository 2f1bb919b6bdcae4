"""Drive the sync or the async client through one call and report what the user saw.

The reliability tests check the same fault through both clients and both endpoints
(``completions`` and ``chat.completions``, which share the stream code); these helpers run
a call in any mode and return one :class:`Outcome`, so each test states its fault and its
expectations once. In the ``-chat`` modes the fault server's builders answer in chat shape
(the suite's conftest arranges it). Sync calls run directly inside the (async) test: the
fault server has its own thread and loop, so blocking the test's loop for a moment is
harmless.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from atoma_integrations import AsyncAtomaClient, AtomaClient, ChatCompletionMessage, Usage

MODES = ("sync", "async", "sync-chat", "async-chat")
"""The two clients, each on both endpoints: every fault is checked against all four."""

PARAMS: dict[str, Any] = {"model": "fault-model", "prompt": "Say hello", "max_tokens": 8}
"""A valid call; the fault server ignores what is asked."""

CHAT_PARAMS: dict[str, Any] = {
    "model": "fault-model",
    "messages": [{"role": "user", "content": "Say hello"}],
    "max_tokens": 8,
}
"""The same call on ``chat.completions``."""


def is_chat(mode: str) -> bool:
    """True for the modes that call ``chat.completions``."""
    return mode.endswith("-chat")


def endpoint_path(mode: str) -> str:
    """The path a ``mode`` call posts to."""
    return "/v1/chat/completions" if is_chat(mode) else "/v1/completions"


@dataclass
class Outcome:
    """What one call gave the user: chunks and text, or the exception, and how long it took."""

    chunks: list[Any] = field(default_factory=list)
    """Chunks the stream yielded before it ended or failed."""
    pieces: list[str] = field(default_factory=list)
    """The text of each chunk, in order."""
    message: ChatCompletionMessage | None = None
    """Chat modes: the whole message (``stream.message`` for a stream)."""
    text: str = ""
    """The text of choice 0 (a whole completion's, or the streamed chunks joined)."""
    usage: Usage | None = None
    """Usage known at the end."""
    finish_reason: str | None = None
    """The finish_reason the caller saw."""
    error: BaseException | None = None
    """The exception the call raised, if any."""
    elapsed: float = 0.0
    """Seconds from the call to its end or its exception."""


def _call(mode: str, params: dict[str, Any]) -> dict[str, Any]:
    call = {**(CHAT_PARAMS if is_chat(mode) else PARAMS), **params}
    if "call_timeout" in call:
        call["timeout"] = call.pop("call_timeout")
    return call


def _client_kwargs(url: str, max_retries: int, timeout: float | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"base_url": url, "max_retries": max_retries}
    if timeout is not None:
        kwargs["timeout"] = timeout
    return kwargs


async def run_create(
    mode: str, url: str, *, max_retries: int = 0, timeout: float | None = None, **params: Any
) -> Outcome:
    """``completions.create`` through the ``mode`` client; never raises, returns the Outcome.

    ``timeout`` is the client's; pass ``call_timeout`` for the call's own ``timeout``.
    """
    call = _call(mode, params)
    outcome = Outcome()
    start = time.monotonic()
    result: Any
    try:
        if mode.startswith("sync"):
            with AtomaClient(**_client_kwargs(url, max_retries, timeout)) as client:
                resource: Any = client.chat.completions if is_chat(mode) else client.completions
                result = resource.create(**call)
        else:
            async with AsyncAtomaClient(**_client_kwargs(url, max_retries, timeout)) as aclient:
                aresource: Any = aclient.chat.completions if is_chat(mode) else aclient.completions
                result = await aresource.create(**call)
        choice = result.choices[0]
        if is_chat(mode):
            outcome.message = choice.message
            outcome.text = choice.message.content or ""
        else:
            outcome.text = choice.text
        outcome.finish_reason = choice.finish_reason
        outcome.usage = result.usage
    except Exception as exc:
        outcome.error = exc
    outcome.elapsed = time.monotonic() - start
    return outcome


async def run_stream(
    mode: str, url: str, *, max_retries: int = 0, timeout: float | None = None, **params: Any
) -> Outcome:
    """``completions.create_stream`` read to its end; never raises, returns the Outcome."""
    call = _call(mode, params)
    chat = is_chat(mode)
    outcome = Outcome()
    start = time.monotonic()
    try:
        if mode.startswith("sync"):
            with AtomaClient(**_client_kwargs(url, max_retries, timeout)) as client:
                resource: Any = client.chat.completions if chat else client.completions
                with resource.create_stream(**call) as stream:
                    for chunk in stream:
                        _take(outcome, chunk, chat)
                    outcome.usage = stream.usage
                    outcome.message = stream.message if chat else None
        else:
            async with AsyncAtomaClient(**_client_kwargs(url, max_retries, timeout)) as aclient:
                aresource: Any = aclient.chat.completions if chat else aclient.completions
                async with aresource.create_stream(**call) as astream:
                    async for chunk in astream:
                        _take(outcome, chunk, chat)
                    outcome.usage = astream.usage
                    outcome.message = astream.message if chat else None
    except Exception as exc:
        outcome.error = exc
    outcome.elapsed = time.monotonic() - start
    return outcome


def _take(outcome: Outcome, chunk: Any, chat: bool) -> None:
    outcome.chunks.append(chunk)
    choice = chunk.choices[0]
    piece = (choice.delta.content or "") if chat else choice.text
    outcome.pieces.append(piece)
    outcome.text += piece
    if choice.finish_reason is not None:
        outcome.finish_reason = choice.finish_reason

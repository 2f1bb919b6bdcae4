"""W3: throughput with many requests in flight from one process, on one event loop.

A sweep over in-flight levels (non-streamed requests, and concurrent streams) for the
async clients people use: raw ``httpx.AsyncClient`` (the ratio base: what our client ran
on before), raw httpx on aiohttp's pool (``httpx-aiohttp``, the floor of our transport),
raw aiohttp, the openai SDK's ``AsyncOpenAI`` (default, and on its aiohttp client), our
``AsyncAtomaClient``, ``AtomaLLM.abatch`` and LlamaIndex ``Atoma`` with
``asyncio.gather(acomplete)``.

At level L each peer runs ``asyncio.gather`` of L calls at once (``abatch`` of L prompts
with ``max_concurrency=L`` for LangChain), repeated until ``min_requests`` calls were
made; requests/s and tokens/s come from the wall time of that, CPU from the process's
CPU time. Peers are rotated from trial to trial, as in the other workloads, and each
figure is a median over trials; ratios are taken within a trial.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.peers import PROMPT
from benchmarks.sse_server import MODEL_ID

__all__ = ["BASE", "FLOOR", "SweepConfig", "sweep"]

BASE = "httpx.AsyncClient"
"""The ratio base for requests/s (the issue's 10x target is over it)."""
FLOOR = "httpx on aiohttp (raw)"
"""The floor of our transport (the 1.3x time-per-request target is over it)."""


@dataclass(frozen=True)
class SweepConfig:
    """Sizes of the sweep."""

    request_levels: tuple[int, ...] = (16, 64, 256, 1024)
    """Non-streamed requests in flight at once."""
    stream_levels: tuple[int, ...] = (64, 256)
    """Streams in flight at once."""
    request_tokens: int = 16
    """Tokens per non-streamed completion."""
    stream_tokens: int = 200
    """Tokens per stream."""
    min_requests: int = 128
    """Calls per peer per level per trial (at least one full level)."""
    trials: int = 3
    """Trials (medians are taken over them)."""


# Every peer waits as long as ours would (httpx's 5 s default fails at 1,024 in flight).
_TIMEOUT = httpx.Timeout(120.0, connect=60.0)


def _body(n: int, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL_ID, "prompt": PROMPT, "max_tokens": n}
    if stream:
        body["stream"] = True
    return body


def _text_of_sse(lines: list[str]) -> str:
    parts = []
    for line in lines:
        if line.startswith("data: {"):
            choices = json.loads(line[6:])["choices"]
            if choices:
                parts.append(choices[0]["text"])
    return "".join(parts)


class AsyncPeer:
    """One async client under test."""

    name = ""
    family = "client"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.url = f"{base_url}/completions"

    async def open(self) -> None:
        """Build the client on the running loop."""

    async def close(self) -> None:
        """Close it."""

    async def one(self, n: int, stream: bool) -> str:
        """One completion (streamed or not); its text."""
        raise NotImplementedError

    async def level(self, width: int, n: int, stream: bool) -> list[str]:
        """``width`` calls in flight at once; their texts."""
        return list(await asyncio.gather(*(self.one(n, stream) for _ in range(width))))


class _HttpxPeer(AsyncPeer):
    client: Any

    async def one(self, n: int, stream: bool) -> str:
        if not stream:
            response = await self.client.post(self.url, json=_body(n, False))
            text: str = response.json()["choices"][0]["text"]
            return text
        async with self.client.stream("POST", self.url, json=_body(n, True)) as response:
            return _text_of_sse([line async for line in response.aiter_lines()])

    async def close(self) -> None:
        await self.client.aclose()


class RawHttpx(_HttpxPeer):
    """``httpx.AsyncClient()`` as users make it: httpx's default pool (100 connections).

    Only the timeout is ours: httpx's 5 s would fail requests queued for a connection at
    1,024 in flight, and failing is not what this measures. (A larger pool makes httpx's
    pool slower, not faster: it scans its connections on every request.)
    """

    name = BASE

    async def open(self) -> None:
        self.client = httpx.AsyncClient(timeout=_TIMEOUT)


class RawHttpxAiohttp(_HttpxPeer):
    """The same code on ``httpx_aiohttp.HttpxAiohttpClient``: our transport's floor."""

    name = FLOOR

    async def open(self) -> None:
        from httpx_aiohttp import HttpxAiohttpClient

        limits = httpx.Limits(max_connections=1024)
        self.client = HttpxAiohttpClient(limits=limits, timeout=_TIMEOUT)


class RawAiohttp(AsyncPeer):
    """aiohttp alone: the floor of every client on aiohttp's pool."""

    name = "aiohttp (raw)"

    async def open(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1024))

    async def one(self, n: int, stream: bool) -> str:
        async with self.session.post(self.url, json=_body(n, stream)) as response:
            if not stream:
                text: str = (await response.json())["choices"][0]["text"]
                return text
            lines = [raw.decode().rstrip("\r\n") async for raw in response.content]
            return _text_of_sse(lines)

    async def close(self) -> None:
        await self.session.close()


class OpenAIAsync(AsyncPeer):
    """``openai.AsyncOpenAI`` with its default client."""

    name = "openai AsyncOpenAI"
    family = "incumbent"

    def _http_client(self) -> Any:
        return None

    async def open(self) -> None:
        import openai

        kwargs: dict[str, Any] = {"base_url": self.base_url, "api_key": "x", "max_retries": 0}
        http_client = self._http_client()
        if http_client is not None:
            kwargs["http_client"] = http_client
        self.client = openai.AsyncOpenAI(**kwargs)

    async def one(self, n: int, stream: bool) -> str:
        if not stream:
            completion = await self.client.completions.create(
                model=MODEL_ID, prompt=PROMPT, max_tokens=n
            )
            text: str = completion.choices[0].text
            return text
        parts: list[str] = []
        response = await self.client.completions.create(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, stream=True
        )
        async with response:
            async for chunk in response:
                if chunk.choices:
                    parts.append(chunk.choices[0].text)
        return "".join(parts)

    async def close(self) -> None:
        await self.client.close()


class OpenAIAiohttp(OpenAIAsync):
    """``openai.AsyncOpenAI(http_client=openai.DefaultAioHttpClient())``."""

    name = "openai AsyncOpenAI (aiohttp)"

    def _http_client(self) -> Any:
        import openai

        if not hasattr(openai, "DefaultAioHttpClient"):
            raise RuntimeError("this openai version has no DefaultAioHttpClient")
        return openai.DefaultAioHttpClient()


class Ours(AsyncPeer):
    """``AsyncAtomaClient`` with its defaults (aiohttp's pool)."""

    name = "AsyncAtomaClient"
    family = "ours"
    transport: str | None = None

    async def open(self) -> None:
        from atoma_integrations import AsyncAtomaClient

        self.client = AsyncAtomaClient(base_url=self.base_url, transport=self.transport)  # type: ignore[arg-type]

    async def one(self, n: int, stream: bool) -> str:
        if not stream:
            completion = await self.client.completions.create(
                model=MODEL_ID, prompt=PROMPT, max_tokens=n
            )
            return str(completion.choices[0].text)
        parts: list[str] = []
        async with self.client.completions.create_stream(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n
        ) as stream_:
            async for chunk in stream_:
                parts.append(chunk.choices[0].text)
        return "".join(parts)

    async def close(self) -> None:
        await self.client.aclose()


class OursHttpx(Ours):
    """``AsyncAtomaClient(transport="httpx")``: the way back to httpx's pool."""

    name = "AsyncAtomaClient (transport=httpx)"
    transport = "httpx"


class AtomaLLMBatch(AsyncPeer):
    """``AtomaLLM(max_concurrency=L).abatch`` of L prompts; streams by ``astream``."""

    name = "AtomaLLM.abatch"
    family = "ours"

    async def open(self) -> None:
        from atoma_integrations.langchain import AtomaLLM

        self._cls = AtomaLLM
        self._llms: dict[tuple[int, int], Any] = {}

    def _llm(self, n: int, width: int) -> Any:
        llm = self._llms.get((n, width))
        if llm is None:
            llm = self._llms[(n, width)] = self._cls(
                model=MODEL_ID, base_url=self.base_url, max_tokens=n, max_concurrency=width
            )
        return llm

    async def one(self, n: int, stream: bool) -> str:
        parts = [token async for token in self._llm(n, 1).astream(PROMPT)]
        return "".join(parts)

    async def level(self, width: int, n: int, stream: bool) -> list[str]:
        if stream:
            return await super().level(width, n, stream)
        texts: list[str] = await self._llm(n, width).abatch([PROMPT] * width)
        return texts


class AtomaLlamaIndexGather(AsyncPeer):
    """LlamaIndex ``Atoma``: ``asyncio.gather`` of ``acomplete`` (or ``astream_complete``)."""

    name = "llama_index Atoma gather"
    family = "ours"

    async def open(self) -> None:
        from atoma_integrations.llama_index import Atoma

        self._cls = Atoma
        self._llms: dict[int, Any] = {}

    def _llm(self, n: int) -> Any:
        llm = self._llms.get(n)
        if llm is None:
            llm = self._llms[n] = self._cls(
                model=MODEL_ID, base_url=self.base_url, max_tokens=n, context_window=8192
            )
        return llm

    async def one(self, n: int, stream: bool) -> str:
        if not stream:
            return str((await self._llm(n).acomplete(PROMPT)).text)
        parts = [r.delta or "" async for r in await self._llm(n).astream_complete(PROMPT)]
        return "".join(parts)


PEER_TYPES: tuple[type[AsyncPeer], ...] = (
    RawHttpx,
    RawHttpxAiohttp,
    RawAiohttp,
    OpenAIAsync,
    OpenAIAiohttp,
    Ours,
    OursHttpx,
    AtomaLLMBatch,
    AtomaLlamaIndexGather,
)


@dataclass
class _Figures:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    base_ratio: list[float] = field(default_factory=list)
    floor_ratio: list[float] = field(default_factory=list)
    floor_cpu_ratio: list[float] = field(default_factory=list)


async def _measure(
    peer: AsyncPeer, width: int, n: int, stream: bool, calls: int
) -> tuple[float, float]:
    """(wall, cpu) seconds for ``calls`` calls, ``width`` at a time."""
    rounds = max(1, calls // width)
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        texts = await peer.level(width, n, stream)
        if len(texts) != width or min(len(t) for t in texts) < n:
            raise RuntimeError(f"{peer.name} returned short or missing text at {width} in flight")
    return time.perf_counter() - wall0, time.process_time() - cpu0


def sweep(
    base_url: str, config: SweepConfig, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run the sweep; returns ``{"levels": [...], "peers": [...], "skipped": {...}}``.

    Each level entry: ``{"kind", "in_flight", "tokens", "figures": {peer: {...}}}`` with
    requests/s, tokens/s, µs per call (wall), CPU µs per call, and the ratios of
    requests/s to :data:`BASE` and of wall time and CPU time per call to :data:`FLOOR`.
    """
    return asyncio.run(_sweep(base_url, config, log or (lambda _: None)))


async def _sweep(base_url: str, config: SweepConfig, log: Callable[[str], None]) -> dict[str, Any]:
    peers: list[AsyncPeer] = []
    skipped: dict[str, str] = {}
    for peer_type in PEER_TYPES:
        peer = peer_type(base_url)
        try:
            await peer.open()
            await peer.level(2, 4, False)
            await peer.level(2, 4, True)
        except Exception as exc:  # a missing package must not stop the run
            skipped[peer_type.name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        peers.append(peer)
    levels = [("requests", w, config.request_tokens) for w in config.request_levels]
    levels += [("streams", w, config.stream_tokens) for w in config.stream_levels]
    out: list[dict[str, Any]] = []
    try:
        for kind, width, n in levels:
            stream = kind == "streams"
            calls = max(width, config.min_requests)
            log(f"W3 {width} {kind} in flight")
            figures = {peer.name: _Figures() for peer in peers}
            failed: dict[str, str] = {}
            for peer in peers:  # warm-up: open the pool to this width
                try:
                    await _measure(peer, width, n, stream, width)
                except Exception as exc:  # a client that cannot take this level is a result
                    failed[peer.name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            running = [p for p in peers if p.name not in failed]
            for trial in range(config.trials):
                k = trial % len(running)
                got: dict[str, tuple[float, float]] = {}
                for p in running[k:] + running[:k]:
                    if p.name in failed:
                        continue
                    try:
                        got[p.name] = await _measure(p, width, n, stream, calls)
                    except Exception as exc:
                        failed[p.name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                for name, (wall, cpu) in got.items():
                    f = figures[name]
                    f.wall.append(wall)
                    f.cpu.append(cpu)
                    if BASE in got:
                        f.base_ratio.append(got[BASE][0] / wall)  # x requests/s of the base
                    if FLOOR in got:
                        f.floor_ratio.append(wall / got[FLOOR][0])  # x time per call
                        f.floor_cpu_ratio.append(cpu / got[FLOOR][1])  # x CPU per call
            done = max(1, calls // width) * width
            out.append(
                {
                    "kind": kind,
                    "in_flight": width,
                    "tokens": n,
                    "figures": {
                        name: _summary(f, done, n)
                        for name, f in figures.items()
                        if f.wall and name not in failed
                    },
                    "failed": failed,
                }
            )
    finally:
        for peer in peers:
            await peer.close()
    return {
        "levels": out,
        "peers": {p.name: p.family for p in peers},
        "skipped": skipped,
        "config": config.__dict__,
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _summary(f: _Figures, calls: int, tokens: int) -> dict[str, float]:
    wall = _median(f.wall)
    return {
        "requests_per_s": calls / wall,
        "tokens_per_s": calls * tokens / wall,
        "us_per_call": wall / calls * 1e6,
        "cpu_us_per_call": _median(f.cpu) / calls * 1e6,
        "x_base_requests_per_s": _median(f.base_ratio),
        "x_floor_time_per_call": _median(f.floor_ratio),
        "x_floor_cpu_per_call": _median(f.floor_cpu_ratio),
    }

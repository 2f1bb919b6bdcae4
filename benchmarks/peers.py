"""The clients and adapters the benchmarks compare, each behind the same small interface.

Every peer does, per call, what a user of that library writes: build the request, send it,
and collect the text (joining the streamed pieces). The raw httpx peer is the floor: a
hand-written ``post`` + ``json()`` for a request, and an ``iter_lines`` + ``json.loads`` loop
for a stream. Peers whose package is missing are skipped, with the reason kept for the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.framework_floors import LangChainFloor, LlamaIndexFloor
from benchmarks.sse_server import MODEL_ID

__all__ = ["PROMPT", "Peer", "build_peers"]

PROMPT = "Say hello to the benchmark."

FLOOR = "floor"
OURS = "ours"
INCUMBENT = "incumbent"
REFERENCE = "reference"


def _payload(n: int, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL_ID,
        "prompt": PROMPT,
        "max_tokens": n,
        "temperature": 0.0,
    }
    if stream:
        body["stream"] = True
    return body


class Peer:
    """One library under test: full completions, streams, and async streams."""

    name: str = ""
    """Short name in the report."""
    family: str = ""
    """``client``, ``langchain`` or ``llama_index``: peers compared with each other."""
    kind: str = ""
    """``floor``, ``ours``, ``incumbent`` or ``reference`` (a framework's own floor)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        """The server's base URL, with ``/v1``."""

    def complete(self, n: int) -> str:
        """One non-streamed completion of ``n`` tokens; its text."""
        raise NotImplementedError

    def stream(self, n: int) -> str:
        """One streamed completion of ``n`` tokens, consumed as a user would; its text."""
        return "".join(self.iter_text(n))

    def iter_text(self, n: int) -> Iterator[str]:
        """The text pieces of one stream, as they arrive (for time to first token)."""
        raise NotImplementedError

    async def aopen(self) -> None:
        """Create what the async path needs on the running event loop."""

    async def astream(self, n: int) -> str:
        """One streamed completion on the async path; its text."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release the async path's resources."""

    def close(self) -> None:
        """Release the sync path's resources."""


class RawHttpx(Peer):
    """The floor: httpx and the standard library's json, nothing else."""

    name = "httpx (floor)"
    family = "client"
    kind = FLOOR

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self._url = f"{base_url}/completions"
        self._http = httpx.Client()
        self._ahttp: httpx.AsyncClient | None = None

    def complete(self, n: int) -> str:
        body = self._http.post(self._url, json=_payload(n, False)).json()
        text: str = body["choices"][0]["text"]
        return text

    def stream(self, n: int) -> str:
        parts: list[str] = []
        with self._http.stream("POST", self._url, json=_payload(n, True)) as response:
            for line in response.iter_lines():
                if line.startswith("data: {"):
                    choices = json.loads(line[6:])["choices"]
                    if choices:
                        parts.append(choices[0]["text"])
        return "".join(parts)

    def iter_text(self, n: int) -> Iterator[str]:
        with self._http.stream("POST", self._url, json=_payload(n, True)) as response:
            for line in response.iter_lines():
                if line.startswith("data: {"):
                    choices = json.loads(line[6:])["choices"]
                    if choices:
                        yield choices[0]["text"]

    async def aopen(self) -> None:
        self._ahttp = httpx.AsyncClient()

    async def astream(self, n: int) -> str:
        assert self._ahttp is not None
        parts: list[str] = []
        async with self._ahttp.stream("POST", self._url, json=_payload(n, True)) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    choices = json.loads(line[6:])["choices"]
                    if choices:
                        parts.append(choices[0]["text"])
        return "".join(parts)

    async def aclose(self) -> None:
        if self._ahttp is not None:
            await self._ahttp.aclose()

    def close(self) -> None:
        self._http.close()


class HttpxSSE(RawHttpx):
    """What our client would cost on httpx-sse: its SSE framing, then the same typed chunks.

    The core does its own framing on bytes (``atoma_integrations/_sse.py`` says why);
    this peer is the measured alternative the issue asked to weigh. Requests, clients and
    clean-up are the floor's; only the stream decoding differs.
    """

    name = "httpx-sse + typed chunks"
    kind = REFERENCE

    def __init__(self, base_url: str) -> None:
        import httpx_sse

        from atoma_integrations.models import CompletionChunk, build_models

        super().__init__(base_url)
        build_models()
        self._sse = httpx_sse
        self._chunk = CompletionChunk

    def stream(self, n: int) -> str:
        return "".join(self.iter_text(n))

    def iter_text(self, n: int) -> Iterator[str]:
        with self._sse.connect_sse(self._http, "POST", self._url, json=_payload(n, True)) as source:
            for event in source.iter_sse():
                if event.data == "[DONE]":
                    continue
                chunk = self._chunk.model_validate_json(event.data)
                if chunk.choices:
                    yield chunk.choices[0].text

    async def astream(self, n: int) -> str:
        assert self._ahttp is not None
        parts: list[str] = []
        async with self._sse.aconnect_sse(
            self._ahttp, "POST", self._url, json=_payload(n, True)
        ) as source:
            async for event in source.aiter_sse():
                if event.data == "[DONE]":
                    continue
                chunk = self._chunk.model_validate_json(event.data)
                if chunk.choices:
                    parts.append(chunk.choices[0].text)
        return "".join(parts)


class OpenAISDK(Peer):
    """The openai SDK's legacy completions, pointed at the server."""

    name = "openai SDK"
    family = "client"
    kind = INCUMBENT

    def __init__(self, base_url: str) -> None:
        import openai

        super().__init__(base_url)
        self._openai = openai
        self._client = openai.OpenAI(base_url=base_url, api_key="x")
        self._aclient: Any = None

    def complete(self, n: int) -> str:
        completion = self._client.completions.create(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, temperature=0.0
        )
        text: str = completion.choices[0].text
        return text

    def stream(self, n: int) -> str:
        parts: list[str] = []
        with self._client.completions.create(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, temperature=0.0, stream=True
        ) as stream:
            for chunk in stream:
                if chunk.choices:
                    parts.append(chunk.choices[0].text)
        return "".join(parts)

    def iter_text(self, n: int) -> Iterator[str]:
        with self._client.completions.create(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, temperature=0.0, stream=True
        ) as stream:
            for chunk in stream:
                if chunk.choices:
                    yield chunk.choices[0].text

    async def aopen(self) -> None:
        self._aclient = self._openai.AsyncOpenAI(base_url=self.base_url, api_key="x")

    async def astream(self, n: int) -> str:
        parts: list[str] = []
        stream = await self._aclient.completions.create(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, temperature=0.0, stream=True
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices:
                    parts.append(chunk.choices[0].text)
        return "".join(parts)

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.close()

    def close(self) -> None:
        self._client.close()


class Ours(Peer):
    """``AtomaClient`` / ``AsyncAtomaClient``."""

    name = "AtomaClient"
    family = "client"
    kind = OURS

    def __init__(self, base_url: str) -> None:
        import atoma_integrations

        super().__init__(base_url)
        self._module = atoma_integrations
        self._client = atoma_integrations.AtomaClient(base_url=base_url)
        self._aclient: Any = None

    def complete(self, n: int) -> str:
        completion = self._client.completions.create(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, temperature=0.0
        )
        return completion.choices[0].text

    def stream(self, n: int) -> str:
        parts: list[str] = []
        with self._client.completions.create_stream(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, temperature=0.0
        ) as stream:
            for chunk in stream:
                parts.append(chunk.choices[0].text)
        return "".join(parts)

    def iter_text(self, n: int) -> Iterator[str]:
        with self._client.completions.create_stream(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, temperature=0.0
        ) as stream:
            for chunk in stream:
                yield chunk.choices[0].text

    async def aopen(self) -> None:
        self._aclient = self._module.AsyncAtomaClient(base_url=self.base_url)

    async def astream(self, n: int) -> str:
        parts: list[str] = []
        async with self._aclient.completions.create_stream(
            model=MODEL_ID, prompt=PROMPT, max_tokens=n, temperature=0.0
        ) as stream:
            async for chunk in stream:
                parts.append(chunk.choices[0].text)
        return "".join(parts)

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.aclose()

    def close(self) -> None:
        self._client.close()


class _PerLength(Peer):
    """A framework LLM object per ``max_tokens`` (set at construction, as users do)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self._llms: dict[int, Any] = {}

    def _make(self, n: int) -> Any:
        raise NotImplementedError

    def llm(self, n: int) -> Any:
        """The LLM object that generates ``n`` tokens."""
        llm = self._llms.get(n)
        if llm is None:
            llm = self._llms[n] = self._make(n)
        return llm


class _LangChain(_PerLength):
    """A LangChain ``BaseLLM``: ``invoke``, ``stream`` and ``astream``."""

    family = "langchain"

    def complete(self, n: int) -> str:
        text: str = self.llm(n).invoke(PROMPT)
        return text

    def stream(self, n: int) -> str:
        parts: list[str] = []
        for token in self.llm(n).stream(PROMPT):
            parts.append(token)
        return "".join(parts)

    def iter_text(self, n: int) -> Iterator[str]:
        yield from self.llm(n).stream(PROMPT)

    async def astream(self, n: int) -> str:
        parts: list[str] = []
        async for token in self.llm(n).astream(PROMPT):
            parts.append(token)
        return "".join(parts)


class _LlamaIndex(_PerLength):
    """A LlamaIndex LLM: ``complete``, ``stream_complete`` and ``astream_complete``."""

    family = "llama_index"

    def complete(self, n: int) -> str:
        text: str = self.llm(n).complete(PROMPT).text
        return text

    def stream(self, n: int) -> str:
        parts: list[str] = []
        for response in self.llm(n).stream_complete(PROMPT):
            parts.append(response.delta or "")
        return "".join(parts)

    def iter_text(self, n: int) -> Iterator[str]:
        for response in self.llm(n).stream_complete(PROMPT):
            yield response.delta or ""

    async def astream(self, n: int) -> str:
        parts: list[str] = []
        async for response in await self.llm(n).astream_complete(PROMPT):
            parts.append(response.delta or "")
        return "".join(parts)


class LangChainOpenAI(_LangChain):
    """``langchain_openai.OpenAI``: the incumbent LangChain completions LLM."""

    name = "langchain_openai.OpenAI"
    kind = INCUMBENT

    def _make(self, n: int) -> Any:
        from langchain_openai import OpenAI

        return OpenAI(
            model=MODEL_ID, base_url=self.base_url, api_key="x", max_tokens=n, temperature=0.0
        )


class AtomaLLMPeer(_LangChain):
    """``atoma_integrations.langchain.AtomaLLM``."""

    name = "AtomaLLM"
    kind = OURS

    def __init__(self, base_url: str) -> None:
        from atoma_integrations.langchain import AtomaLLM

        super().__init__(base_url)
        self._cls = AtomaLLM

    def _make(self, n: int) -> Any:
        return self._cls(model=MODEL_ID, base_url=self.base_url, max_tokens=n, temperature=0.0)


class _FloorPeer(_PerLength):
    """A framework floor (see :mod:`benchmarks.framework_floors`) with its own httpx clients."""

    kind = REFERENCE
    _factory: Callable[..., Any]

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self._http = httpx.Client()
        self._ahttp = httpx.AsyncClient()

    def _make(self, n: int) -> Any:
        return type(self)._factory(self.base_url, MODEL_ID, n, self._http, self._ahttp)

    async def aopen(self) -> None:
        # The async client binds to the loop it first runs on: one per run of the async path.
        self._ahttp = httpx.AsyncClient()
        self._llms.clear()

    async def aclose(self) -> None:
        await self._ahttp.aclose()

    def close(self) -> None:
        self._http.close()


class LangChainFloorPeer(_FloorPeer, _LangChain):
    """LangChain's own per-token cost: a minimal ``BaseLLM`` on raw httpx."""

    name = "LangChain floor"
    _factory = staticmethod(LangChainFloor)


class OpenAILikePeer(_LlamaIndex):
    """``llama_index.llms.openai_like.OpenAILike``: the incumbent LlamaIndex completions LLM."""

    name = "OpenAILike"
    kind = INCUMBENT

    def _make(self, n: int) -> Any:
        from llama_index.llms.openai_like import OpenAILike  # type: ignore[import-untyped]

        return OpenAILike(
            model=MODEL_ID,
            api_base=self.base_url,
            api_key="x",
            is_chat_model=False,
            context_window=8192,
            max_tokens=n,
            temperature=0.0,
        )


class AtomaLlamaIndexPeer(_LlamaIndex):
    """``atoma_integrations.llama_index.Atoma``."""

    name = "llama_index Atoma"
    kind = OURS

    def __init__(self, base_url: str) -> None:
        from atoma_integrations.llama_index import Atoma

        super().__init__(base_url)
        self._cls = Atoma

    def _make(self, n: int) -> Any:
        return self._cls(model=MODEL_ID, base_url=self.base_url, max_tokens=n, temperature=0.0)


class LlamaIndexFloorPeer(_FloorPeer, _LlamaIndex):
    """LlamaIndex's own per-token cost: a minimal ``CustomLLM`` on raw httpx."""

    name = "LlamaIndex floor"
    _factory = staticmethod(LlamaIndexFloor)


PEER_TYPES: tuple[type[Peer], ...] = (
    RawHttpx,
    OpenAISDK,
    Ours,
    HttpxSSE,
    LangChainOpenAI,
    AtomaLLMPeer,
    LangChainFloorPeer,
    OpenAILikePeer,
    AtomaLlamaIndexPeer,
    LlamaIndexFloorPeer,
)


@dataclass
class PeerSet:
    """The peers that could be built, and why the others could not."""

    peers: list[Peer] = field(default_factory=list)
    """Ready peers, the floor first."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Peer name -> why it was skipped (a package is missing, an adapter is not written yet)."""

    def close(self) -> None:
        """Close every peer's sync resources."""
        for peer in self.peers:
            peer.close()


def build_peers(base_url: str, only: set[str] | None = None) -> PeerSet:
    """Every peer that can be built against ``base_url`` (``only``: a subset, by name).

    A peer is tried once here (one short stream) so that a broken one is reported as
    skipped, with its error, instead of failing the whole run halfway.
    """
    result = PeerSet()
    for peer_type in PEER_TYPES:
        if only is not None and peer_type.name not in only and peer_type.kind != FLOOR:
            continue
        try:
            peer = peer_type(base_url)
            text = peer.stream(4)
            if not text:
                raise RuntimeError("a 4-token stream returned no text")
        except Exception as exc:  # a missing package or adapter must not stop the run
            result.skipped[peer_type.name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        result.peers.append(peer)
    return result

"""Chat streaming per token: ``python benchmarks/chat_stream.py [--quick | --smoke] [--no-write]``.

W2 of ``run.py`` for chat completions. The same method: one model-free server in its own
process, both wire formats, interleaved trials, client-process CPU time; each peer's cost
per token is the slope between a 512-token and an 8-token stream, as a ratio to a
hand-written raw httpx loop measured in the same trial. Peers: that loop (the floor), our
client, the openai SDK; ``ChatAtoma``, ``langchain_openai.ChatOpenAI`` and a minimal
``BaseChatModel`` on raw httpx (LangChain's own floor); ``AtomaChat``, LlamaIndex's
``OpenAILike`` as a chat model and a minimal chat ``CustomLLM`` on raw httpx (LlamaIndex's
floor). Every stream's text is checked. The report is its own section of RESULTS.md.

A second stream is a reasoning model's (reasoning deltas, then the text, as vLLM sends
them on each wire): our client, ``ChatAtoma`` and ``AtomaChat`` beside the raw loop and
the frameworks' floors streaming reasoning the minimal correct way. Every stream's
reasoning and text are checked. The incumbents are left out there: ``ChatOpenAI`` and
``OpenAILike`` drop a chat stream's reasoning, so they would not be doing the same work.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.framework_floors import (
    CHAT_QUESTION,
    LangChainChatFloor,
    LangChainReasoningFloor,
    LlamaIndexChatFloor,
    LlamaIndexReasoningFloor,
    raw_chat_pieces,
    raw_chat_texts,
)
from benchmarks.measure import Config, per_token
from benchmarks.peers import FLOOR, INCUMBENT, OURS, REFERENCE
from benchmarks.report import RESULTS_PATH, machine_info, section_markers, write_section
from benchmarks.sse_server import (
    MODEL_ID,
    REASONING_MODEL_ID,
    WIRES,
    ServerProcess,
    reasoning_answer_of,
    text_of,
)

BEGIN, END = section_markers("chat_stream.py")

REASONING = " (reasoning)"
"""The suffix of a peer's name on the reasoning stream."""

# The per-token targets of benchmarks/README.md hold for chat as for completions, reasoning
# included.
TARGETS = {
    name + suffix: limit
    for name, limit in (("AtomaClient chat", 1.5), ("ChatAtoma", 2.0), ("AtomaChat", 2.0))
    for suffix in ("", REASONING)
}

STREAMS = ("answer", "reasoning")
"""The streams measured on each wire: a plain answer, and a reasoning model's."""


# W2's sizes (benchmarks/measure.py): 6 long and 12 short streams per peer and trial.
SIZES = {
    "full": Config(trials=7),
    "quick": Config(trials=3, long_tokens=256, streams_per_trial=3),
    "smoke": Config(trials=1, long_tokens=16, short_tokens=2, streams_per_trial=1),
}


# --- peers ----------------------------------------------------------------------------------


@dataclass
class Peer:
    """One library under test, shaped for :func:`benchmarks.measure.per_token`."""

    name: str
    family: str
    kind: str
    streams: Callable[[int], str]
    """Streams an ``n``-token answer and returns its text."""

    def stream(self, n: int) -> str:
        """One ``n``-token stream, refused unless its text is the whole answer."""
        text = self.streams(n)
        if text != text_of(n):
            raise AssertionError(f"{self.name} streamed {text[:80]!r}..., not the answer")
        return text


@dataclass
class ReasoningPeer:
    """A library under test on the reasoning stream, shaped like :class:`Peer`."""

    name: str
    family: str
    kind: str
    streams: Callable[[int], tuple[str, str]]
    """Streams a reasoning model's ``n``-token answer; returns its reasoning and its text."""

    def stream(self, n: int) -> str:
        """One ``n``-token stream, refused unless its reasoning and its text are the whole
        answer's; what it returns is both, joined (every character streamed)."""
        reasoning, text = self.streams(n)
        if (reasoning, text) != reasoning_answer_of(n):
            raise AssertionError(
                f"{self.name} streamed reasoning {reasoning[:80]!r}... and text "
                f"{text[:80]!r}..., not the answer"
            )
        return reasoning + text


def build_peers(base_url: str) -> tuple[list[Peer], dict[str, str], Callable[[], None]]:
    """Every peer that can be built; the ones that cannot, with why; and a closer."""
    url = f"{base_url}/chat/completions"
    http = httpx.Client()
    closers: list[Callable[[], None]] = [http.close]
    peers: list[Peer] = [
        Peer(
            "httpx (floor)",
            "client",
            FLOOR,
            lambda n: "".join(raw_chat_texts(http, url, MODEL_ID, n)),
        )
    ]
    skipped: dict[str, str] = {}
    messages = [{"role": "user", "content": CHAT_QUESTION}]

    def ours() -> Peer:
        from atoma_integrations import AtomaClient

        client = AtomaClient(base_url=base_url)
        closers.append(client.close)

        def stream(n: int) -> str:
            parts: list[str] = []
            with client.chat.completions.create_stream(
                model=MODEL_ID, messages=messages, max_tokens=n, temperature=0.0
            ) as chunks:
                for chunk in chunks:
                    if chunk.choices and chunk.choices[0].delta.content:
                        parts.append(chunk.choices[0].delta.content)
            return "".join(parts)

        return Peer("AtomaClient chat", "client", OURS, stream)

    def openai_sdk() -> Peer:
        from openai import OpenAI

        client = OpenAI(base_url=base_url, api_key="x")
        closers.append(client.close)

        def stream(n: int) -> str:
            parts: list[str] = []
            for chunk in client.chat.completions.create(
                model=MODEL_ID, messages=messages, max_tokens=n, temperature=0.0, stream=True
            ):
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            return "".join(parts)

        return Peer("openai SDK chat", "client", INCUMBENT, stream)

    def langchain_peer(name: str, kind: str, make: Callable[[int], Any]) -> Peer:
        chat = functools.cache(make)  # one object per max_tokens, as users build them
        return Peer(
            name,
            "langchain",
            kind,
            lambda n: "".join(str(c.content) for c in chat(n).stream(CHAT_QUESTION)),
        )

    def chat_atoma() -> Peer:
        from atoma_integrations.langchain import ChatAtoma

        return langchain_peer(
            "ChatAtoma",
            OURS,
            lambda n: ChatAtoma(model=MODEL_ID, base_url=base_url, max_tokens=n, temperature=0.0),
        )

    def chat_openai() -> Peer:
        from langchain_openai import ChatOpenAI

        return langchain_peer(
            "langchain_openai.ChatOpenAI",
            INCUMBENT,
            lambda n: ChatOpenAI(
                model=MODEL_ID, base_url=base_url, api_key="x", max_tokens=n, temperature=0.0
            ),
        )

    def langchain_floor() -> Peer:
        return langchain_peer(
            "LangChain chat floor", REFERENCE, lambda n: LangChainChatFloor(url, MODEL_ID, n, http)
        )

    def llama_index_peer(name: str, kind: str, make: Callable[[int], Any]) -> Peer:
        from llama_index.core.llms import ChatMessage

        llm = functools.cache(make)
        question = [ChatMessage(role="user", content=CHAT_QUESTION)]
        return Peer(
            name,
            "llama_index",
            kind,
            lambda n: "".join(r.delta or "" for r in llm(n).stream_chat(question)),
        )

    def atoma_chat() -> Peer:
        from atoma_integrations.llama_index import AtomaChat

        return llama_index_peer(
            "AtomaChat",
            OURS,
            lambda n: AtomaChat(model=MODEL_ID, base_url=base_url, max_tokens=n, temperature=0.0),
        )

    def openai_like() -> Peer:
        from llama_index.llms.openai_like import OpenAILike  # type: ignore[import-untyped]

        return llama_index_peer(
            "OpenAILike (chat)",
            INCUMBENT,
            lambda n: OpenAILike(
                model=MODEL_ID,
                api_base=base_url,
                api_key="x",
                is_chat_model=True,
                context_window=8192,
                max_tokens=n,
                temperature=0.0,
            ),
        )

    def llama_index_floor() -> Peer:
        return llama_index_peer(
            "LlamaIndex chat floor",
            REFERENCE,
            lambda n: LlamaIndexChatFloor(url, MODEL_ID, n, http),
        )

    for build in (
        ours,
        openai_sdk,
        chat_atoma,
        chat_openai,
        langchain_floor,
        atoma_chat,
        openai_like,
        llama_index_floor,
    ):
        try:
            peer = build()
            peer.stream(2)  # a broken peer is reported, not measured
            peers.append(peer)
        except Exception as exc:  # a missing package or a broken peer: say so, go on
            skipped[build.__name__] = f"{type(exc).__name__}: {exc}"

    def close() -> None:
        for closer in closers:
            closer()

    return peers, skipped, close


def build_reasoning_peers(
    base_url: str,
) -> tuple[list[ReasoningPeer], dict[str, str], Callable[[], None]]:
    """The reasoning stream's peers, as :func:`build_peers` builds the answer's."""
    url = f"{base_url}/chat/completions"
    http = httpx.Client()
    closers: list[Callable[[], None]] = [http.close]
    model = REASONING_MODEL_ID

    def raw(n: int) -> tuple[str, str]:
        reasoning: list[str] = []
        text: list[str] = []
        for is_reasoning, piece in raw_chat_pieces(http, url, model, n):
            (reasoning if is_reasoning else text).append(piece)
        return "".join(reasoning), "".join(text)

    peers = [ReasoningPeer("httpx (floor)", "client", FLOOR, raw)]
    skipped: dict[str, str] = {}
    messages = [{"role": "user", "content": CHAT_QUESTION}]

    def ours() -> ReasoningPeer:
        from atoma_integrations import AtomaClient

        client = AtomaClient(base_url=base_url)
        closers.append(client.close)

        def stream(n: int) -> tuple[str, str]:
            reasoning: list[str] = []
            text: list[str] = []
            with client.chat.completions.create_stream(
                model=model, messages=messages, max_tokens=n, temperature=0.0
            ) as chunks:
                for chunk in chunks:
                    if chunk.choices:
                        delta = chunk.choices[0].delta
                        if delta.reasoning:
                            reasoning.append(delta.reasoning)
                        if delta.content:
                            text.append(delta.content)
            return "".join(reasoning), "".join(text)

        return ReasoningPeer("AtomaClient chat" + REASONING, "client", OURS, stream)

    def langchain_peer(name: str, kind: str, make: Callable[[int], Any]) -> ReasoningPeer:
        chat = functools.cache(make)

        def stream(n: int) -> tuple[str, str]:
            reasoning: list[str] = []
            text: list[str] = []
            for chunk in chat(n).stream(CHAT_QUESTION):
                if chunk.content:
                    text.append(chunk.content)
                elif piece := chunk.additional_kwargs.get("reasoning_content"):
                    reasoning.append(piece)
            return "".join(reasoning), "".join(text)

        return ReasoningPeer(name + REASONING, "langchain", kind, stream)

    def chat_atoma() -> ReasoningPeer:
        from atoma_integrations.langchain import ChatAtoma

        return langchain_peer(
            "ChatAtoma",
            OURS,
            lambda n: ChatAtoma(model=model, base_url=base_url, max_tokens=n, temperature=0.0),
        )

    def langchain_floor() -> ReasoningPeer:
        return langchain_peer(
            "LangChain chat floor",
            REFERENCE,
            lambda n: LangChainReasoningFloor(url, model, n, http),
        )

    def llama_index_peer(name: str, kind: str, make: Callable[[int], Any]) -> ReasoningPeer:
        from llama_index.core.llms import ChatMessage

        llm = functools.cache(make)
        question = [ChatMessage(role="user", content=CHAT_QUESTION)]

        def stream(n: int) -> tuple[str, str]:
            reasoning: list[str] = []
            text: list[str] = []
            for response in llm(n).stream_chat(question):
                if response.delta:
                    text.append(response.delta)
                elif piece := response.additional_kwargs.get("thinking_delta"):
                    reasoning.append(piece)
            return "".join(reasoning), "".join(text)

        return ReasoningPeer(name + REASONING, "llama_index", kind, stream)

    def atoma_chat() -> ReasoningPeer:
        from atoma_integrations.llama_index import AtomaChat

        return llama_index_peer(
            "AtomaChat",
            OURS,
            lambda n: AtomaChat(model=model, base_url=base_url, max_tokens=n, temperature=0.0),
        )

    def llama_index_floor() -> ReasoningPeer:
        return llama_index_peer(
            "LlamaIndex chat floor",
            REFERENCE,
            lambda n: LlamaIndexReasoningFloor(url, model, n, http),
        )

    for build in (ours, chat_atoma, langchain_floor, atoma_chat, llama_index_floor):
        try:
            peer = build()
            peer.stream(2)  # a broken peer is reported, not measured
            peers.append(peer)
        except Exception as exc:  # a missing package or a broken peer: say so, go on
            skipped[build.__name__ + REASONING] = f"{type(exc).__name__}: {exc}"

    def close() -> None:
        for closer in closers:
            closer()

    return peers, skipped, close


# --- measuring --------------------------------------------------------------------------


def measure_wire(base_url: str, config: Config, stream: str = "answer") -> dict[str, Any]:
    """W2 (:func:`benchmarks.measure.per_token`) for every chat peer of ``stream`` (one of
    :data:`STREAMS`): µs per token and the ratio to the floor, medians over trials; and the
    peers that could not be built."""
    build = build_reasoning_peers if stream == "reasoning" else build_peers
    peers, skipped, close = build(base_url)
    try:
        figures = per_token(peers, config)  # type: ignore[arg-type]  # peers.Peer, by duck type
    finally:
        close()
    return {
        "peers": [
            {
                "name": peer.name,
                "family": peer.family,
                "kind": peer.kind,
                "us_per_token": figures[peer.name]["cpu"] * 1e6,
                "ratio": figures[peer.name]["cpu_ratio"],
            }
            for peer in peers
        ],
        "skipped": skipped,
    }


def verdicts(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, float, float]]:
    """Each target's (name, wire, ratio, limit) in this run (``results[wire][stream]``)."""
    rows = []
    for stream in STREAMS:
        for wire, streams in results.items():
            for p in streams[stream]["peers"]:
                limit = TARGETS.get(p["name"])
                if limit is not None:
                    rows.append((p["name"], wire, p["ratio"], limit))
    return rows


# --- the report ---------------------------------------------------------------------------


def render(
    results: dict[str, dict[str, Any]], info: dict[str, Any], config: Config, load: float
) -> str:
    """The section of RESULTS.md, markers included (``results[wire][stream]``)."""
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    lines = [
        BEGIN,
        "## Chat streaming per token (benchmarks/chat_stream.py)",
        "",
        f"Generated by `python benchmarks/chat_stream.py` at commit {info.get('commit')}; "
        f"{info['cores']} cores ({info['cpu']}), load average {load:.1f} at the start; "
        f"Python {info['python']}; {packages}.",
        "",
        f"W2's method on `/v1/chat/completions`: per-token CPU is the slope between a "
        f"{config.long_tokens}- and an {config.short_tokens}-token stream, medians of "
        f"{config.trials} interleaved trials of {config.streams_per_trial} long and "
        f"{2 * config.streams_per_trial} short streams each, ratios to the raw "
        "httpx loop in the same trial. The floors are that loop inside a minimal "
        "`BaseChatModel` / chat `CustomLLM`: their cost above httpx is the framework's own, "
        "and an adapter's cost above its floor is the adapter's. The chat floors alone come "
        "near or above 2x (LangChain's chat chunks also make the garbage collector run about "
        "eight times per 512-token stream), so the 2x limit set for the adapters "
        "is tighter for chat than it is for completions.",
        "",
        "The reasoning stream is a reasoning model's answer as vLLM streams it: the first "
        "half of the tokens are reasoning deltas (`reasoning` on the openai wire, as vLLM "
        "0.16 on sends it; `reasoning_content` and `reasoning` on the atoma wire, as vLLM "
        "0.11.1 to 0.15 send them), the rest the text. Its floors stream the reasoning the "
        'minimal correct way (LangChain: a chunk with `additional_kwargs["reasoning_content"]`'
        " per piece; LlamaIndex: `thinking_delta` and a `ThinkingBlock` of the reasoning so "
        "far); every stream's reasoning and text are checked.",
        "",
        "| target | wire | this run | limit | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, wire, ratio, limit in verdicts(results):
        verdict = "met" if ratio <= limit else "MISSED"
        lines.append(f"| {name} per token | {wire} | {ratio:.2f}x | ≤ {limit}x | {verdict} |")
    for wire, stream, result in (
        (wire, stream, streams[stream]) for wire, streams in results.items() for stream in STREAMS
    ):
        title = f"### {wire} wire" + (", reasoning stream" if stream == "reasoning" else "")
        lines += [
            "",
            title,
            "",
            "| peer | kind | CPU µs/token | x httpx "
            "| CPU above its floor (httpx, LangChain's, LlamaIndex's) |",
            "|---|---|---|---|---|",
        ]
        floors = {p["family"]: p for p in result["peers"] if p["kind"] in (FLOOR, REFERENCE)}
        for p in result["peers"]:
            cost, ratio = p["us_per_token"], p["ratio"]
            floor = floors.get(p["family"])
            above = "" if floor is None or floor is p else f"{cost - floor['us_per_token']:+.1f} µs"
            lines.append(f"| {p['name']} | {p['kind']} | {cost:.1f} | {ratio:.2f}x | {above} |")
        for name, why in result["skipped"].items():
            lines.append(f"| {name} | skipped: {why} | | | |")
    lines += ["", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="fewer, shorter trials")
    group.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    parser.add_argument(
        "--output", type=Path, help=f"the report to update (default: {RESULTS_PATH.name})"
    )
    args = parser.parse_args(argv)
    config = SIZES["quick" if args.quick else "smoke" if args.smoke else "full"]
    load = os.getloadavg()[0]

    def log(message: str) -> None:
        print(f"[chat_stream] {message}", file=sys.stderr)

    results: dict[str, dict[str, Any]] = {}
    with ServerProcess() as server:
        for wire in WIRES:
            results[wire] = {}
            for stream in STREAMS:
                log(f"{wire} wire, {stream} stream")
                results[wire][stream] = measure_wire(server.base_url(wire), config, stream)
    section = render(results, machine_info(), config, load)
    print(section)
    if not args.no_write:
        output = args.output or RESULTS_PATH
        write_section(output, section)
        log(f"wrote its section of {output}")
    return 1 if any(ratio > limit for _, _, ratio, limit in verdicts(results)) else 0


if __name__ == "__main__":
    sys.exit(main())

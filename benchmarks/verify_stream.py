"""Signature checks per streamed token: ``python benchmarks/verify_stream.py [--smoke]``.

W2's method (:func:`benchmarks.measure.per_token`) on a signed chat stream: the model-free
benchmark server behind the signing relay (``scripts/local_server/relay.py``), so every
chunk carries an Ed25519 signature as an Atoma node's does, and each peer reads the same
bytes. Peers: the raw httpx loop (the floor), ``AtomaClient`` and ``ChatAtoma`` with
verification off and on (pinned to the relay's key). In the same run, one signature check
(``SignatureVerifier.verify`` on one signed chunk) and one BLAKE2b-256 hash of it are timed
alone, so the cost verification adds per chunk can be set against them: DESIGN.md's limit
is 1.3x one check plus one hash. The relay's own CPU is the server's, not the client's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from hashlib import blake2b
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.chat_stream import Peer
from benchmarks.framework_floors import CHAT_QUESTION, raw_chat_texts
from benchmarks.measure import Config, per_token
from benchmarks.peers import FLOOR, OURS
from benchmarks.report import RESULTS_PATH, machine_info, section_markers, write_section
from benchmarks.sse_server import MODEL_ID, ServerProcess
from tests.support.relay import Relay, running_relay

BEGIN, END = section_markers("verify_stream.py")
LIMIT = 1.3
"""The most verification may add per chunk, in units of one check plus one hash alone."""
SIZES = {
    "full": Config(trials=7),
    "smoke": Config(trials=1, long_tokens=16, short_tokens=2, streams_per_trial=1),
}
_MICRO_RUNS = {"full": 2000, "smoke": 20}


def build_peers(relay: Relay) -> tuple[list[Peer], Callable[[], None]]:
    """The floor, then the client and ChatAtoma with verification off and on."""
    from atoma_integrations import AtomaClient
    from atoma_integrations.langchain import ChatAtoma

    base_url = relay.base_url
    http = httpx.Client()
    url = f"{base_url}/chat/completions"
    closers: list[Callable[[], None]] = [http.close]
    messages = [{"role": "user", "content": CHAT_QUESTION}]
    peers = [
        Peer(
            "httpx (floor)",
            "client",
            FLOOR,
            lambda n: "".join(raw_chat_texts(http, url, MODEL_ID, n)),
        )
    ]
    for verified in (False, True):
        trusted = [relay.signer] if verified else None
        client = AtomaClient(base_url=base_url, trusted_signers=trusted)
        closers.append(client.close)

        def stream(n: int, client: AtomaClient = client) -> str:
            parts: list[str] = []
            with client.chat.completions.create_stream(
                model=MODEL_ID, messages=messages, max_tokens=n, temperature=0.0
            ) as chunks:
                for chunk in chunks:
                    if chunk.choices and chunk.choices[0].delta.content:
                        parts.append(chunk.choices[0].delta.content)
            return "".join(parts)

        label = "on" if verified else "off"
        peers.append(Peer(f"AtomaClient chat, verification {label}", "client", OURS, stream))
        chats: dict[int, ChatAtoma] = {}

        def chat_stream(
            n: int, trusted: list[str] | None = trusted, chats: dict[int, ChatAtoma] = chats
        ) -> str:
            chat = chats.setdefault(
                n,
                ChatAtoma(
                    model=MODEL_ID,
                    base_url=base_url,
                    max_tokens=n,
                    temperature=0.0,
                    trusted_signers=trusted,
                ),
            )
            return "".join(str(c.content) for c in chat.stream(CHAT_QUESTION))

        peers.append(Peer(f"ChatAtoma, verification {label}", "langchain", OURS, chat_stream))

    def close() -> None:
        for closer in closers:
            closer()

    return peers, close


def one_signed_chunk(relay: Relay) -> bytes:
    """The raw ``data:`` payload of one streamed chunk, as the relay signed it."""
    body = {"model": MODEL_ID, "messages": [{"role": "user", "content": "x"}], "max_tokens": 2}
    body["stream"] = True
    with httpx.stream("POST", f"{relay.base_url}/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                return line[len("data: ") :].encode()
    raise AssertionError("the relay sent no event")


def micro(relay: Relay, runs: int) -> dict[str, float]:
    """Seconds of one signature check and of one BLAKE2b-256 hash of a chunk, alone."""
    from atoma_integrations._signatures import build_verifier

    payload = one_signed_chunk(relay)
    verifier = build_verifier(trusted_signers=[relay.signer])
    assert verifier is not None and verifier.verify(payload) == relay.signer

    def timed(step: Callable[[], object]) -> float:
        started = time.process_time()
        for _ in range(runs):
            step()
        return (time.process_time() - started) / runs

    return {
        "check": timed(lambda: verifier.verify(payload)),
        "hash": timed(lambda: blake2b(payload, digest_size=32).digest()),
        "chunk_bytes": float(len(payload)),
    }


def measure(size: str) -> dict[str, Any]:
    """Per-token CPU of every peer and the lone check and hash, in one run."""
    config = SIZES[size]
    with (
        ServerProcess() as server,
        running_relay(server.base_url("openai")[: -len("/v1")]) as relay,
    ):
        peers, close = build_peers(relay)
        try:
            for peer in peers:
                peer.stream(2)
            figures = per_token(peers, config)  # type: ignore[arg-type]  # by duck type
        finally:
            close()
        alone = micro(relay, _MICRO_RUNS[size])
    return {
        "peers": {p.name: figures[p.name]["cpu"] for p in peers},
        "alone": alone,
        "config": config,
    }


def added(results: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Per pair (client, ChatAtoma): seconds verification adds per token, and that as a
    multiple of one check plus one hash alone."""
    unit = results["alone"]["check"] + results["alone"]["hash"]
    out = {}
    for name in ("AtomaClient chat", "ChatAtoma"):
        peers = results["peers"]
        extra = peers[f"{name}, verification on"] - peers[f"{name}, verification off"]
        out[name] = (extra, extra / unit)
    return out


def render(results: dict[str, Any], info: dict[str, Any], load: float) -> str:
    """The section of RESULTS.md, markers included."""
    alone, config = results["alone"], results["config"]
    lines = [
        BEGIN,
        "## Signature checks per streamed token (benchmarks/verify_stream.py)",
        "",
        f"Generated at commit {info.get('commit')}; {info['cores']} cores, load average "
        f"{load:.1f} at the start. W2's method on a chat stream signed by the relay "
        f"(Ed25519), {config.trials} trials. One check alone: {alone['check'] * 1e6:.1f} µs; "
        f"one BLAKE2b-256 hash alone: {alone['hash'] * 1e6:.2f} µs "
        f"({alone['chunk_bytes']:.0f}-byte chunk).",
        "",
        "| peer | CPU µs/token |",
        "|---|---|",
    ]
    for name, cpu in results["peers"].items():
        lines.append(f"| {name} | {cpu * 1e6:.1f} |")
    lines += ["", "| with verification on | added µs/token | x (check + hash) | limit |"]
    lines.append("|---|---|---|---|")
    for name, (extra, ratio) in added(results).items():
        verdict = "met" if ratio <= LIMIT else "MISSED"
        lines.append(f"| {name} | {extra * 1e6:+.1f} | {ratio:.2f}x | ≤ {LIMIT}x {verdict} |")
    lines += ["", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    parser.add_argument("--output", type=Path, help=f"the report (default: {RESULTS_PATH.name})")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    results = measure("smoke" if args.smoke else "full")
    section = render(results, machine_info(), load)
    print(section)
    if not args.no_write:
        write_section(args.output or RESULTS_PATH, section)
    return 0 if args.smoke else int(any(r > LIMIT for _, r in added(results).values()))


if __name__ == "__main__":
    sys.exit(main())

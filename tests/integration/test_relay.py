"""The signing relay in front of the real llama.cpp server: Atoma's wire, checked end to end.

Every answer the relay gives (completions, chat, embeddings, and each stream chunk) must
pass the package's signature check under the relay's own key, carry the model's answer
unchanged, and follow Atoma's framing: no ``[DONE]``, keep-alive comments, Atoma's error
shape. A client with verification off must work through it unchanged; the checks through
the client and the adapters are in ``test_verification.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient, InternalServerError
from atoma_integrations._signatures import SignatureVerifier, build_verifier
from atoma_integrations._streaming import SSEDecoder

pytestmark = pytest.mark.integration
pytest.importorskip("cryptography", reason="the [verify] extra (cryptography) is not installed")

RELAY = Path(__file__).resolve().parents[2] / "scripts" / "local_server" / "relay.py"
PROMPT = "Once upon a time"
CHAT = [{"role": "user", "content": "Hello"}]


@contextmanager
def _running_relay(upstream: str) -> Iterator[tuple[str, str]]:
    """A relay on a free port in front of ``upstream``; keep-alives after 1 ms of silence.

    Yields (its base URL with /v1, its signer address), as it prints them.
    """
    command = [sys.executable, str(RELAY), "--upstream", upstream, "--port", "0"]
    process = subprocess.Popen(
        [*command, "--keep-alive-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(2)]
        assert all(line.startswith("TS_") for line in lines), f"the relay did not start: {lines}"
        printed = dict(line.split("=", 1) for line in lines)
        yield printed["TS_RELAY_URL"], printed["TS_SIGNER_ADDRESS"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def relay(server_base_url: str) -> Iterator[tuple[str, str]]:
    """The relay in front of the real server: (base URL with /v1, signer address)."""
    with _running_relay(server_base_url) as running:
        yield running


@pytest.fixture(scope="module")
def verifier(relay: tuple[str, str]) -> SignatureVerifier:
    built = build_verifier(trusted_signers=[relay[1]])
    assert built is not None
    return built


def _post(base_url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{base_url}{path}", json=body, timeout=60)


def _stream_bytes(base_url: str, path: str, body: dict[str, Any]) -> bytes:
    with httpx.stream("POST", f"{base_url}{path}", json=body, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return response.read()


def _completion(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "prompt": PROMPT, "max_tokens": 12, "temperature": 0, **extra}


def _chat(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": CHAT, "max_tokens": 12, "temperature": 0, **extra}


# Full answers: signed, verified, and the model's answer unchanged.


@pytest.mark.parametrize(
    ("path", "build", "answer"),
    [
        # Log-probabilities: floats, which the relay writes the node's way.
        ("/completions", _completion, lambda body: body["choices"][0]["logprobs"]["tokens"]),
        ("/chat/completions", _chat, lambda body: body["choices"][0]["message"]["content"]),
    ],
    ids=["completion", "chat"],
)
def test_a_full_answer_is_signed_by_the_relay_and_unchanged(
    relay: tuple[str, str],
    verifier: SignatureVerifier,
    server_base_url: str,
    server_model: str,
    path: str,
    build: Any,
    answer: Any,
) -> None:
    url, signer = relay
    body = build(server_model, logprobs=2) if path == "/completions" else build(server_model)
    response = _post(url, path, body)
    assert response.status_code == 200
    assert verifier.verify(response.content) == signer
    signed = response.json()
    assert list(signed)[-2:] == ["signature", "response_hash"]
    direct = _post(server_base_url, path, body).json()
    assert answer(signed) == answer(direct)
    assert answer(signed)


def test_embeddings_are_signed_with_the_vectors_unchanged(
    relay: tuple[str, str],
    verifier: SignatureVerifier,
    server_base_url: str,
    server_embed_model: str,
) -> None:
    url, signer = relay
    body = {"model": server_embed_model, "input": ["a signed vector", "and another"]}
    response = _post(url, "/embeddings", body)
    assert response.status_code == 200
    assert verifier.verify(response.content) == signer
    direct = _post(server_base_url, "/embeddings", body).json()
    assert [d["embedding"] for d in response.json()["data"]] == [
        d["embedding"] for d in direct["data"]
    ]


# Streams: each chunk signed, no [DONE], keep-alives while the server is silent.


@pytest.mark.parametrize(
    ("path", "build", "piece"),
    [
        ("/completions", _completion, lambda choice: choice.get("text") or ""),
        ("/chat/completions", _chat, lambda choice: choice["delta"].get("content") or ""),
    ],
    ids=["completion", "chat"],
)
def test_every_stream_chunk_is_signed_and_there_is_no_done(
    relay: tuple[str, str],
    verifier: SignatureVerifier,
    server_base_url: str,
    server_model: str,
    path: str,
    build: Any,
    piece: Any,
) -> None:
    url, signer = relay
    raw = _stream_bytes(url, path, build(server_model, stream=True))
    assert b"[DONE]" not in raw
    assert b": keep-alive\n\n" in raw
    payloads = SSEDecoder().feed(raw)
    assert len(payloads) > 2
    assert {verifier.verify(payload) for payload in payloads} == {signer}
    chunks = [json.loads(payload) for payload in payloads]
    assert chunks[-1]["choices"][0]["finish_reason"] is not None
    streamed = "".join(piece(chunk["choices"][0]) for chunk in chunks if chunk["choices"])
    direct = _stream_bytes(server_base_url, path, build(server_model, stream=True))
    direct_chunks = [json.loads(p) for p in SSEDecoder().feed(direct) if p != b"[DONE]"]
    assert streamed == "".join(piece(c["choices"][0]) for c in direct_chunks if c["choices"])
    assert streamed


# Errors, in Atoma's shape.


def test_a_backend_error_is_atomas_500_without_the_backends_text(
    relay: tuple[str, str], server_model: str
) -> None:
    # The completion model cannot embed: llama.cpp answers 500 with its own message.
    response = _post(relay[0], "/embeddings", {"model": server_model, "input": "x"})
    assert response.status_code == 500
    assert response.content == (
        b'{"error":{"code":"INTERNAL_ERROR","message":"Internal Server Error"}}'
    )


def test_an_unreachable_server_is_atomas_429() -> None:
    # Atoma's proxy answers 429 when it cannot reach the node; port 9 (discard) refuses.
    with _running_relay("http://127.0.0.1:9") as (url, _):
        response = _post(url, "/completions", {"model": "m", "prompt": "x"})
    assert response.status_code == 429
    assert response.json() == {
        "error": {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"}
    }


def test_a_body_that_is_not_json_is_atomas_request_error(relay: tuple[str, str]) -> None:
    response = httpx.post(f"{relay[0]}/completions", content=b"{not json", timeout=10)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "REQUEST_ERROR"
    assert error["message"].startswith("Request error: ")


# A client with verification off works through the relay as through any server.


def test_the_client_works_through_the_relay(
    relay: tuple[str, str], verifier: SignatureVerifier, server_model: str, server_embed_model: str
) -> None:
    with AtomaClient(base_url=relay[0], max_retries=0) as client:
        completion = client.completions.create(**_completion(server_model))
        assert completion.choices[0].text
        extra = completion.model_extra or {}
        assert extra.keys() >= {"signature", "response_hash"}

        with client.completions.create_stream(**_completion(server_model)) as stream:
            chunks = list(stream)
        # It ended at connection close (no [DONE]) with a finish_reason, so no error.
        assert stream.text == completion.choices[0].text
        assert all((chunk.model_extra or {}).get("signature") for chunk in chunks)

        with client.chat.completions.create_stream(**_chat(server_model)) as chat_stream:
            for _ in chat_stream:
                pass
        assert chat_stream.message.content

        embeddings = client.embeddings.create(model=server_embed_model, input=["one", "two"])
        assert len(embeddings.data) == 2

        with pytest.raises(InternalServerError) as caught:
            client.embeddings.create(model=server_model, input="x")
        assert caught.value.code == "INTERNAL_ERROR"


async def test_the_async_client_streams_through_the_relay(
    relay: tuple[str, str], server_model: str
) -> None:
    client = AsyncAtomaClient(base_url=relay[0], max_retries=0)
    try:
        async with client.chat.completions.create_stream(**_chat(server_model)) as stream:
            pieces = [chunk async for chunk in stream]
        assert pieces
        assert stream.message.content
    finally:
        await client.aclose()

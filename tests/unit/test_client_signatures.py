"""The clients' signature checks: full bodies and every stream event, sync and async.

A mocked server answers with bodies signed as an Atoma node signs them
(``tests/support/signing.py``); tampered answers show that nothing unchecked reaches the
caller: a failing body is never returned, and a stream delivers the verified text before
a failing chunk (carried on the error) and nothing after it.
"""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import httpx
import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient, StreamInterruptedError
from atoma_integrations._retries import retry_delay
from atoma_integrations.errors import ConfigurationError, SignatureVerificationError

pytest.importorskip("cryptography", reason="the [verify] extra (cryptography) is not installed")

from tests.support.mock_server import (
    MockServer,
    chat_chunk,
    chunk,
    completion,
    embeddings_body,
    stream_reply,
)
from tests.support.signing import SCHEMES, NodeKey, Scheme, sign_value, sse_body

KEYS: dict[Scheme, NodeKey] = {scheme: NodeKey.generate(scheme) for scheme in SCHEMES}
NODE = KEYS["ed25519"]
OTHER = NodeKey.generate("ed25519")
USAGE = {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
REQUEST_ID = {"x-request-id": "req-42"}


def signed_reply(value: Any, key: NodeKey = NODE) -> httpx.Response:
    return httpx.Response(200, content=sign_value(value, key), headers=REQUEST_ID)


def signed_stream(*payloads: bytes) -> httpx.Response:
    reply = stream_reply([sse_body(list(payloads))])
    reply.headers.update(REQUEST_ID)
    return reply


def tampered(payload: bytes, old: bytes, new: bytes) -> bytes:
    assert old in payload
    return payload.replace(old, new, 1)


def completion_events(key: NodeKey = NODE) -> list[bytes]:
    # Bodies a re-serializer would get wrong: non-ASCII, an escaped quote, a Ryu float.
    return [
        sign_value(chunk("Grüße, ", logprob=1e-05), key),
        sign_value(chunk('"Welt"'), key),
        sign_value(chunk("!", "stop"), key),
        sign_value({"id": "cmpl-1", "choices": [], "usage": USAGE}, key),
    ]


# --- settings ------------------------------------------------------------------------


def test_off_by_default_and_unsigned_servers_work_as_before() -> None:
    server = MockServer([httpx.Response(200, json=completion("plain"))])
    client = server.client()
    assert client.verify_signatures is False and client.trusted_signers is None
    result = client.completions.create(model="m", prompt="p")
    assert result.choices[0].text == "plain" and result.signer is None


def test_trusted_signers_turns_verification_on_and_is_kept_by_pickling() -> None:
    client = AtomaClient(base_url="http://x/v1", trusted_signers=[NODE.address.upper()[2:]])
    assert client.verify_signatures is True
    assert client.trusted_signers == frozenset({NODE.address})
    clone = pickle.loads(pickle.dumps(client))
    assert clone.verify_signatures is True and clone.trusted_signers == client.trusted_signers
    aclone = pickle.loads(
        pickle.dumps(AsyncAtomaClient(base_url="http://x/v1", verify_signatures=True))
    )
    assert aclone.verify_signatures is True and aclone.trusted_signers is None


def test_a_bad_address_fails_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="trusted_signers"):
        AtomaClient(base_url="http://x/v1", trusted_signers=["0x1234"])


# --- full responses ------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_full_completion_is_verified_with_each_scheme(scheme: Scheme) -> None:
    key = KEYS[scheme]
    server = MockServer([signed_reply(completion('Grüße "x"', logprob=1e-05), key)])
    result = server.client(verify_signatures=True).completions.create(model="m", prompt="p")
    assert result.signer == key.address
    assert "signer" not in result.model_dump()  # the wire fields only
    assert result.model_extra is not None and "signature" in result.model_extra


def test_full_chat_and_embeddings_are_verified() -> None:
    chat = {
        "id": "c",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
    }
    server = MockServer([signed_reply(chat), signed_reply(embeddings_body(["a", "bb"]))])
    client = server.client(trusted_signers=[NODE.address])
    answer = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert answer.signer == NODE.address
    vectors = client.embeddings.create(model="m", input=["a", "bb"])
    assert vectors.signer == NODE.address


def test_a_server_cannot_fill_signer_itself() -> None:
    server = MockServer([httpx.Response(200, json=completion(signer="0xevil"))])
    result = server.client().completions.create(model="m", prompt="p")
    assert result.signer is None
    assert result.model_extra == {"signer": "0xevil"}


def test_a_tampered_body_is_never_returned_and_is_not_retried() -> None:
    body = tampered(sign_value(completion("yes"), NODE), b'"yes"', b'"no!"')
    server = MockServer([httpx.Response(200, content=body, headers=REQUEST_ID)])
    with pytest.raises(SignatureVerificationError) as info:
        server.client(verify_signatures=True).completions.create(model="m", prompt="p")
    error = info.value
    assert error.reason == "hash_mismatch" and error.request_id == "req-42"
    assert "req-42" in str(error)
    assert len(server.requests) == 1
    assert retry_delay(0, error) is None


def test_an_untrusted_signer_fails_and_names_the_key() -> None:
    server = MockServer([signed_reply(completion(), OTHER)])
    with pytest.raises(SignatureVerificationError) as info:
        server.client(trusted_signers=[NODE.address]).completions.create(model="m", prompt="p")
    assert info.value.reason == "untrusted_signer" and info.value.signer == OTHER.address


def test_an_unsigned_body_fails_when_verifying() -> None:
    server = MockServer([httpx.Response(200, json=completion())])
    with pytest.raises(SignatureVerificationError) as info:
        server.client(verify_signatures=True).completions.create(model="m", prompt="p")
    assert info.value.reason == "unsigned"


def test_async_full_responses_are_verified() -> None:
    async def main() -> tuple[str | None, str | None]:
        server = MockServer([signed_reply(completion()), signed_reply(embeddings_body(["a"]))])
        async with server.async_client(verify_signatures=True) as client:
            text = await client.completions.create(model="m", prompt="p")
            vectors = await client.embeddings.create(model="m", input="a")
        return text.signer, vectors.signer

    assert asyncio.run(main()) == (NODE.address, NODE.address)


def test_async_tampered_body_fails() -> None:
    body = tampered(sign_value(completion("yes"), NODE), b'"yes"', b'"no!"')

    async def main() -> None:
        server = MockServer([httpx.Response(200, content=body)])
        async with server.async_client(verify_signatures=True) as client:
            await client.completions.create(model="m", prompt="p")

    with pytest.raises(SignatureVerificationError, match="hash"):
        asyncio.run(main())


# --- streams -------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_stream_chunks_are_verified_with_each_scheme(scheme: Scheme) -> None:
    key = KEYS[scheme]
    server = MockServer([signed_stream(*completion_events(key))])
    with server.client(trusted_signers=[key.address]).completions.create_stream(
        model="m", prompt="p"
    ) as stream:
        chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks) == 'Grüße, "Welt"!'
    assert {c.signer for c in chunks} == {key.address}
    assert stream.signers == {key.address}
    assert stream.usage is not None and stream.usage.total_tokens == 7  # verified too


def test_a_bad_chunk_mid_stream_keeps_what_was_verified_and_yields_nothing_after() -> None:
    events = completion_events()
    events[1] = tampered(events[1], b"Welt", b"Walt")
    server = MockServer([signed_stream(*events)])
    received: list[str] = []
    with pytest.raises(SignatureVerificationError) as info:
        with server.client(verify_signatures=True).completions.create_stream(
            model="m", prompt="p"
        ) as stream:
            for piece in stream:
                received.append(piece.choices[0].text)
    error = info.value
    assert received == ["Grüße, "]
    assert error.text == "Grüße, " and error.texts == {0: "Grüße, "}
    assert error.reason == "hash_mismatch" and error.request_id == "req-42"
    assert "completion stream stopped" in str(error)
    assert stream.signers == {NODE.address}


def test_a_bad_usage_only_chunk_fails_the_stream() -> None:
    events = completion_events()
    events[3] = tampered(events[3], b'"total_tokens":7', b'"total_tokens":1')
    server = MockServer([signed_stream(*events)])
    with pytest.raises(SignatureVerificationError) as info:
        with server.client(verify_signatures=True).completions.create_stream(
            model="m", prompt="p"
        ) as stream:
            for _ in stream:
                pass
    assert info.value.text == 'Grüße, "Welt"!' and info.value.usage is None


def test_a_chunk_signed_by_another_key_fails_a_pinned_stream() -> None:
    events = completion_events()
    events[2] = sign_value(chunk("!", "stop"), OTHER)
    server = MockServer([signed_stream(*events)])
    with pytest.raises(SignatureVerificationError) as info:
        with server.client(trusted_signers=[NODE.address]).completions.create_stream(
            model="m", prompt="p"
        ) as stream:
            list(stream)
    assert info.value.reason == "untrusted_signer" and info.value.signer == OTHER.address
    assert info.value.text == 'Grüße, "Welt"'


def test_an_unsigned_error_event_is_surfaced_as_the_servers_error() -> None:
    error_event = b'{"error":{"code":"INTERNAL_ERROR","message":"node went away"}}'
    server = MockServer([signed_stream(completion_events()[0], error_event)])
    with pytest.raises(StreamInterruptedError, match="node went away") as info:
        with server.client(verify_signatures=True).completions.create_stream(
            model="m", prompt="p"
        ) as stream:
            list(stream)
    assert not isinstance(info.value, SignatureVerificationError)
    assert info.value.text == "Grüße, "
    assert isinstance(info.value.__cause__, SignatureVerificationError)


def test_an_unsigned_content_chunk_fails_the_stream() -> None:
    server = MockServer(
        [signed_stream(completion_events()[0], b'{"choices":[{"index":0,"text":"x"}]}')]
    )
    with pytest.raises(SignatureVerificationError) as info:
        with server.client(verify_signatures=True).completions.create_stream(
            model="m", prompt="p"
        ) as stream:
            list(stream)
    assert info.value.reason == "unsigned" and info.value.text == "Grüße, "


def test_chat_stream_bad_chunk_carries_the_partial_message() -> None:
    events = [
        sign_value(chat_chunk("Hel", role="assistant"), NODE),
        tampered(sign_value(chat_chunk("lo"), NODE), b'"lo"', b'"LO"'),
        sign_value(chat_chunk(None, "stop"), NODE),
    ]
    server = MockServer([signed_stream(*events)])
    received: list[str | None] = []
    with pytest.raises(SignatureVerificationError) as info:
        with server.client(verify_signatures=True).chat.completions.create_stream(
            model="m", messages=[{"role": "user", "content": "x"}]
        ) as stream:
            for piece in stream:
                received.append(piece.choices[0].delta.content)
    assert received == ["Hel"]
    assert info.value.partial_message.content == "Hel"
    assert "chat completion stream" in str(info.value)


def test_async_streams_are_verified_and_stop_at_a_bad_chunk() -> None:
    good = completion_events()
    bad = list(good)
    bad[1] = tampered(bad[1], b"Welt", b"Walt")

    async def main() -> tuple[set[str | None], set[str], list[str], SignatureVerificationError]:
        server = MockServer([signed_stream(*good), signed_stream(*bad)])
        async with server.async_client(verify_signatures=True) as client:
            async with client.completions.create_stream(model="m", prompt="p") as stream:
                signers = {c.signer async for c in stream}
            received: list[str] = []
            try:
                async with client.completions.create_stream(model="m", prompt="p") as failing:
                    async for piece in failing:
                        received.append(piece.choices[0].text)
            except SignatureVerificationError as exc:
                return signers, stream.signers, received, exc
        raise AssertionError("the tampered stream did not fail")

    signers, stream_signers, received, error = asyncio.run(main())
    assert signers == stream_signers == {NODE.address}
    assert received == ["Grüße, "] and error.text == "Grüße, "


def test_chunks_of_an_unverified_stream_have_no_signer() -> None:
    server = MockServer([signed_stream(*completion_events())])
    with server.client().completions.create_stream(model="m", prompt="p") as stream:
        chunks = list(stream)
    assert all(c.signer is None for c in chunks) and stream.signers == set()


def test_chunks_read_with_a_failing_event_are_yielded_before_its_error() -> None:
    # One network read, three events: the two good chunks reach the caller, then the error.
    body = sse_body([sign_value(chunk("a"), NODE), sign_value(chunk("b"), NODE)], keep_alive=False)
    body += b'data: {"error":{"code":"INTERNAL_ERROR","message":"gone"}}\n\n'
    server = MockServer([stream_reply([body])])
    received: list[str] = []
    with pytest.raises(StreamInterruptedError, match="gone") as info:
        with server.client().completions.create_stream(model="m", prompt="p") as stream:
            for piece in stream:
                received.append(piece.choices[0].text)
    assert received == ["a", "b"] and info.value.text == "ab"

"""Verified inference on the real model: every answer through the signing relay, checked
against the relay's pinned key, by the clients and by both frameworks' adapters.

The relay signs what llama.cpp answers the way an Atoma node does; each call here pins its
address with ``trusted_signers`` and must see it as the signer of every response, chunk and
adapter result.
"""

from __future__ import annotations

from typing import Any

import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient

pytest.importorskip("cryptography", reason="the [verify] extra (cryptography) is not installed")

from llama_index.core.llms import ChatMessage

from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat, AtomaEmbedding
from tests.support.relay import Relay

PROMPT = "Once upon a time"
CHAT = [{"role": "user", "content": "Hello"}]


def _client(relay: Relay) -> AtomaClient:
    return AtomaClient(base_url=relay.base_url, max_retries=0, trusted_signers=[relay.signer])


def test_the_client_verifies_completions_chat_and_embeddings(
    signing_relay: Relay, server_model: str, server_embed_model: str
) -> None:
    signer = signing_relay.signer
    with _client(signing_relay) as client:
        text = client.completions.create(model=server_model, prompt=PROMPT, max_tokens=8)
        assert text.signer == signer and text.choices[0].text
        chat = client.chat.completions.create(model=server_model, messages=CHAT, max_tokens=8)
        assert chat.signer == signer
        vectors = client.embeddings.create(model=server_embed_model, input=["a", "b c"])
        assert vectors.signer == signer and len(vectors.data) == 2


def test_the_client_verifies_every_streamed_chunk(signing_relay: Relay, server_model: str) -> None:
    signer = signing_relay.signer
    with _client(signing_relay) as client:
        with client.completions.create_stream(
            model=server_model, prompt=PROMPT, max_tokens=8
        ) as stream:
            chunks = list(stream)
        assert chunks and {c.signer for c in chunks} == {signer} == stream.signers
        with client.chat.completions.create_stream(
            model=server_model, messages=CHAT, max_tokens=8
        ) as chat_stream:
            chat_chunks = list(chat_stream)
        assert {c.signer for c in chat_chunks} == {signer} == chat_stream.signers


async def test_the_async_client_verifies_full_and_streamed_answers(
    signing_relay: Relay, server_model: str, server_embed_model: str
) -> None:
    signer = signing_relay.signer
    async with AsyncAtomaClient(
        base_url=signing_relay.base_url, max_retries=0, trusted_signers=[signer]
    ) as client:
        text = await client.completions.create(model=server_model, prompt=PROMPT, max_tokens=8)
        chat = await client.chat.completions.create(model=server_model, messages=CHAT, max_tokens=8)
        vectors = await client.embeddings.create(model=server_embed_model, input="a")
        assert text.signer == chat.signer == vectors.signer == signer
        async with client.chat.completions.create_stream(
            model=server_model, messages=CHAT, max_tokens=8
        ) as stream:
            signers = {c.signer async for c in stream}
        assert signers == stream.signers == {signer}


def test_an_unpinned_key_fails_through_the_relay(signing_relay: Relay, server_model: str) -> None:
    from atoma_integrations import SignatureVerificationError

    other = "0x" + "1" * 64
    with AtomaClient(base_url=signing_relay.base_url, max_retries=0, trusted_signers=[other]) as c:
        with pytest.raises(SignatureVerificationError) as info:
            c.completions.create(model=server_model, prompt=PROMPT, max_tokens=4)
    assert info.value.reason == "untrusted_signer" and info.value.signer == signing_relay.signer


def _langchain(relay: Relay, cls: Any, **kwargs: Any) -> Any:
    return cls(base_url=relay.base_url, max_retries=0, trusted_signers=[relay.signer], **kwargs)


def test_langchain_adapters_verify_through_the_relay(
    signing_relay: Relay, server_model: str, server_embed_model: str
) -> None:
    signer = signing_relay.signer
    chat = _langchain(signing_relay, ChatAtoma, model=server_model, max_tokens=8)
    assert chat.invoke("Hello").response_metadata["signer"] == signer
    merged: Any = None
    for piece in chat.stream("Hello"):
        merged = piece if merged is None else merged + piece
    assert merged.response_metadata["signer"] == signer
    llm = _langchain(signing_relay, AtomaLLM, model=server_model, max_tokens=8)
    info = llm.generate([PROMPT]).generations[0][0].generation_info
    assert info is not None and info["signer"] == signer
    embeddings = _langchain(signing_relay, AtomaEmbeddings, model=server_embed_model)
    assert len(embeddings.embed_documents(["a", "b"])) == 2


async def test_langchain_adapters_verify_async(signing_relay: Relay, server_model: str) -> None:
    chat = _langchain(signing_relay, ChatAtoma, model=server_model, max_tokens=8)
    message = await chat.ainvoke("Hello")
    assert message.response_metadata["signer"] == signing_relay.signer
    merged: Any = None
    async for piece in chat.astream("Hello"):
        merged = piece if merged is None else merged + piece
    assert merged.response_metadata["signer"] == signing_relay.signer


def _llama(relay: Relay, cls: Any, **kwargs: Any) -> Any:
    return cls(base_url=relay.base_url, max_retries=0, trusted_signers=[relay.signer], **kwargs)


def test_llama_index_adapters_verify_through_the_relay(
    signing_relay: Relay, server_model: str, server_embed_model: str
) -> None:
    signer = signing_relay.signer
    llm = _llama(signing_relay, Atoma, model=server_model, max_tokens=8)
    assert llm.complete(PROMPT).additional_kwargs["signer"] == signer
    streamed = list(llm.stream_complete(PROMPT))
    assert streamed and all(r.additional_kwargs["signer"] == signer for r in streamed)
    chat = _llama(signing_relay, AtomaChat, model=server_model, max_tokens=8)
    messages = [ChatMessage(role="user", content="Hello")]
    assert chat.chat(messages).additional_kwargs["signer"] == signer
    embedding = _llama(signing_relay, AtomaEmbedding, model_name=server_embed_model)
    assert len(embedding.get_text_embedding("a")) > 0


async def test_llama_index_adapters_verify_async(signing_relay: Relay, server_model: str) -> None:
    chat = _llama(signing_relay, AtomaChat, model=server_model, max_tokens=8)
    messages = [ChatMessage(role="user", content="Hello")]
    reply = await chat.achat(messages)
    assert reply.additional_kwargs["signer"] == signing_relay.signer
    responses = [r async for r in await chat.astream_chat(messages)]
    assert responses and all(
        r.additional_kwargs["signer"] == signing_relay.signer for r in responses
    )

"""Signature checks through every adapter and the Ray columns, on a mocked signing server.

The server answers completions, chat and embeddings (whole and streamed) with bodies signed
as an Atoma node signs them; a tampering variant changes one byte of content after signing.
Each adapter takes ``verify_signatures`` / ``trusted_signers`` from the one settings model,
keeps them through its framework's serialization and pickling, and shows the signer where
its framework keeps response metadata.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import respx
from langchain_core.load import dumpd, load
from llama_index.core.llms import ChatMessage

from atoma_integrations.errors import SignatureVerificationError
from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat, AtomaEmbedding
from atoma_integrations.ray import ChatColumn, CompleteColumn, EmbedColumn

pytest.importorskip("cryptography", reason="the [verify] extra (cryptography) is not installed")

from tests.support.mock_server import (
    chat_chunk,
    chunk,
    completion,
    embeddings_body,
    stream_reply,
)
from tests.support.signing import NodeKey, sign_value, sse_body

NODE = NodeKey.generate("ed25519")
OTHER = NodeKey.generate("secp256r1")
URL = "http://signing/v1"
USAGE = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
HI = [ChatMessage(role="user", content="hi")]

ADAPTERS: dict[str, Callable[..., Any]] = {
    "AtomaLLM": lambda **kw: AtomaLLM(model="m", base_url=URL, max_retries=0, **kw),
    "ChatAtoma": lambda **kw: ChatAtoma(model="m", base_url=URL, max_retries=0, **kw),
    "AtomaEmbeddings": lambda **kw: AtomaEmbeddings(model="m", base_url=URL, **kw),
    "Atoma": lambda **kw: Atoma(model="m", base_url=URL, context_window=64, **kw),
    "AtomaChat": lambda **kw: AtomaChat(model="m", base_url=URL, context_window=64, **kw),
    "AtomaEmbedding": lambda **kw: AtomaEmbedding(model_name="m", base_url=URL, **kw),
}


def _answer(body: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The whole answer, or the stream's events, for one request."""
    if path.endswith("/embeddings"):
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        return embeddings_body(texts, usage=None) | {"usage": USAGE}, []
    chat = path.endswith("/chat/completions")
    if not body.get("stream"):
        if chat:
            message = {"role": "assistant", "content": "Grüße"}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return {"id": "c", "model": "m", "choices": [choice], "usage": USAGE}, []
        return completion("Grüße"), []
    if chat:
        events = [chat_chunk("Grü", role="assistant"), chat_chunk("ße"), chat_chunk(None, "stop")]
    else:
        events = [chunk("Grü"), chunk("ße"), chunk("", "stop")]
    events.append({"id": "x", "choices": [], "usage": USAGE})
    return None, events


def signing_server(key: NodeKey, *, tamper: bool = False) -> Callable[[httpx.Request], Any]:
    """A handler that signs every answer with ``key``; ``tamper`` changes one character
    of content (the ß of the text, a vector's 0.25) after signing."""

    def fix(signed: bytes) -> bytes:
        if not tamper:
            return signed
        old = "ß".encode() if "ß".encode() in signed else b"0.25"  # text, or a vector
        assert old in signed
        return signed.replace(old, b"s" if old != b"0.25" else b"0.26", 1)

    def handle(request: httpx.Request) -> httpx.Response:
        whole, events = _answer(json.loads(request.content), request.url.path)
        if whole is not None:
            return httpx.Response(200, content=fix(sign_value(whole, key)))
        payloads = [sign_value(event, key) for event in events]
        payloads[1] = fix(payloads[1])
        return stream_reply([sse_body(payloads)])

    return handle


@pytest.fixture
def serve() -> Iterator[Callable[..., None]]:
    with respx.mock(using="httpx", assert_all_called=False) as router:

        def start(key: NodeKey = NODE, *, tamper: bool = False) -> None:
            router.post(url__startswith=URL).mock(side_effect=signing_server(key, tamper=tamper))

        yield start


# --- settings ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_every_adapter_takes_the_settings_and_keys_its_client_by_them(name: str) -> None:
    make = ADAPTERS[name]
    plain, any_signer = make(), make(verify_signatures=True)
    pinned = make(trusted_signers=[NODE.address.upper().replace("0X", "0x")])
    assert pinned.verify_signatures is False  # as given; trusted_signers turns it on
    settings = _settings(pinned)
    assert settings.verify_signatures is True and settings.trusted_signers == (NODE.address,)
    keys = {_settings(plain).key, _settings(any_signer).key, settings.key}
    assert len(keys) == 3  # never a shared client across different verification
    assert _settings(pickle.loads(pickle.dumps(pinned))).key == settings.key


def _settings(adapter: Any) -> Any:
    found = getattr(adapter, "_client_settings", None) or adapter._settings
    return found()


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
@pytest.mark.parametrize("name", ["AtomaLLM", "ChatAtoma", "AtomaEmbeddings"])
def test_langchain_serialization_keeps_the_settings(name: str) -> None:
    adapter = ADAPTERS[name](verify_signatures=True, trusted_signers=[NODE.address])
    restored = load(
        dumpd(adapter), valid_namespaces=["atoma_integrations"], allowed_objects=[type(adapter)]
    )
    assert restored.verify_signatures is True
    assert restored.trusted_signers == [NODE.address]


@pytest.mark.parametrize("name", ["Atoma", "AtomaChat", "AtomaEmbedding"])
def test_llama_index_to_dict_keeps_the_settings(name: str) -> None:
    adapter = ADAPTERS[name](trusted_signers=[NODE.address])
    restored = type(adapter).from_dict(adapter.to_dict())
    assert restored.trusted_signers == [NODE.address]


def test_a_malformed_address_fails_when_the_adapter_is_built() -> None:
    with pytest.raises(Exception, match="trusted_signers"):
        ChatAtoma(model="m", base_url=URL, trusted_signers=["0xnope"])


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_without_the_verify_extra_asking_for_verification_fails_when_built(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in [m for m in sys.modules if m.startswith("cryptography")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.delitem(sys.modules, "atoma_integrations._signature_keys", raising=False)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # an import of it fails
    with pytest.raises(ValueError, match=r"atoma-integrations\[verify\]"):
        ADAPTERS[name](verify_signatures=True)
    ADAPTERS[name]()  # verification off needs nothing


# --- LangChain -----------------------------------------------------------------------


def test_chat_atoma_puts_the_signer_in_response_metadata(serve: Callable[..., None]) -> None:
    serve()
    chat = ChatAtoma(model="m", base_url=URL, trusted_signers=[NODE.address])
    assert chat.invoke("hi").response_metadata["signer"] == NODE.address
    merged: Any = None
    for piece in chat.stream("hi"):
        merged = piece if merged is None else merged + piece
    assert merged.content == "Grüße"
    assert merged.response_metadata["signer"] == NODE.address
    message = asyncio.run(chat.ainvoke("hi"))
    assert message.response_metadata["signer"] == NODE.address
    # Off: no signer, and the server's signature fields pass through as before.
    plain = ChatAtoma(model="m", base_url=URL).invoke("hi").response_metadata
    assert "signer" not in plain and "signature" in plain


def test_atoma_llm_puts_the_signer_in_generation_info(serve: Callable[..., None]) -> None:
    serve()
    llm = AtomaLLM(model="m", base_url=URL, verify_signatures=True)
    info = llm.generate(["p"]).generations[0][0].generation_info
    assert info is not None and info["signer"] == NODE.address
    streamed = AtomaLLM(model="m", base_url=URL, verify_signatures=True, streaming=True)
    info = streamed.generate(["p"]).generations[0][0].generation_info
    assert info is not None and info["signer"] == NODE.address
    async_info = asyncio.run(llm.agenerate(["p"])).generations[0][0].generation_info
    assert async_info is not None and async_info["signer"] == NODE.address


@pytest.mark.parametrize("streaming", [False, True])
def test_langchain_adapters_fail_on_a_tampered_answer(
    serve: Callable[..., None], streaming: bool
) -> None:
    serve(tamper=True)
    chat = ChatAtoma(model="m", base_url=URL, verify_signatures=True, max_retries=0)
    received: list[Any] = []
    with pytest.raises(SignatureVerificationError):
        if streaming:
            for piece in chat.stream("hi"):
                received.append(piece.content)
        else:
            chat.invoke("hi")
    assert "ße" not in "".join(map(str, received)) and "se" not in "".join(map(str, received))
    with pytest.raises(SignatureVerificationError):
        AtomaLLM(model="m", base_url=URL, verify_signatures=True, streaming=streaming).invoke("p")
    with pytest.raises(SignatureVerificationError):
        AtomaEmbeddings(model="m", base_url=URL, verify_signatures=True).embed_query("ß")


def test_an_untrusted_node_fails_through_the_adapters(serve: Callable[..., None]) -> None:
    serve(OTHER)
    with pytest.raises(SignatureVerificationError) as info:
        ChatAtoma(model="m", base_url=URL, trusted_signers=[NODE.address]).invoke("hi")
    assert info.value.reason == "untrusted_signer" and info.value.signer == OTHER.address


def test_embeddings_adapters_verify(serve: Callable[..., None]) -> None:
    serve()
    vectors = AtomaEmbeddings(model="m", base_url=URL, verify_signatures=True).embed_documents(
        ["a", "bb"]
    )
    assert len(vectors) == 2
    vector = AtomaEmbedding(model_name="m", base_url=URL, verify_signatures=True)
    assert len(vector.get_text_embedding("a")) == 3


# --- LlamaIndex ----------------------------------------------------------------------


def test_llama_index_atoma_puts_the_signer_on_every_response(serve: Callable[..., None]) -> None:
    serve()
    llm = Atoma(model="m", base_url=URL, context_window=64, trusted_signers=[NODE.address])
    assert llm.complete("p").additional_kwargs["signer"] == NODE.address
    responses = list(llm.stream_complete("p"))
    assert responses and all(r.additional_kwargs["signer"] == NODE.address for r in responses)
    assert responses[-1].text == "Grüße"

    async def first() -> Any:
        return await llm.acomplete("p")

    assert asyncio.run(first()).additional_kwargs["signer"] == NODE.address


def test_llama_index_atoma_chat_puts_the_signer_on_every_response(
    serve: Callable[..., None],
) -> None:
    serve()
    chat = AtomaChat(model="m", base_url=URL, context_window=64, verify_signatures=True)
    assert chat.chat(HI).additional_kwargs["signer"] == NODE.address
    responses = list(chat.stream_chat(HI))
    assert responses and all(r.additional_kwargs["signer"] == NODE.address for r in responses)
    assert responses[-1].message.content == "Grüße"


def test_llama_index_adapters_fail_on_a_tampered_stream(serve: Callable[..., None]) -> None:
    serve(tamper=True)
    chat = AtomaChat(model="m", base_url=URL, context_window=64, verify_signatures=True)
    texts: list[str] = []
    with pytest.raises(SignatureVerificationError) as info:
        for response in chat.stream_chat(HI):
            texts.append(response.delta or "")
    assert "".join(texts) in ("", "Grü") and info.value.text == "Grü"
    llm = Atoma(model="m", base_url=URL, context_window=64, verify_signatures=True)
    with pytest.raises(SignatureVerificationError):
        llm.complete("p")
    with pytest.raises(SignatureVerificationError):
        AtomaEmbedding(model_name="m", base_url=URL, verify_signatures=True).get_query_embedding(
            "ß"
        )


# --- Ray columns ---------------------------------------------------------------------


def test_ray_columns_add_a_signer_column(serve: Callable[..., None]) -> None:
    serve()
    batch = {"prompt": np.array(["a", "b"], dtype=object)}
    llm = AtomaLLM(model="m", base_url=URL, trusted_signers=[NODE.address])
    out = asyncio.run(CompleteColumn(llm, signer_column="signer")(batch))
    assert list(out["signer"]) == [NODE.address, NODE.address]
    chat = AtomaChat(model="m", base_url=URL, context_window=64, verify_signatures=True)
    out = asyncio.run(ChatColumn(chat, input_column="prompt", signer_column="signer")(batch))
    assert list(out["signer"]) == [NODE.address, NODE.address]
    from atoma_integrations import AtomaClient

    client = AtomaClient(base_url=URL, verify_signatures=True)
    texts = {"text": np.array(["a", "bb"], dtype=object)}
    out = asyncio.run(EmbedColumn(client, model="m", signer_column="signer")(texts))
    assert list(out["signer"]) == [NODE.address, NODE.address]


def test_a_signer_column_needs_a_verifying_source() -> None:
    with pytest.raises(ValueError, match="signer_column needs a source that verifies"):
        CompleteColumn(AtomaLLM(model="m", base_url=URL), signer_column="signer")


def test_a_tampered_row_fails_in_column_mode(serve: Callable[..., None]) -> None:
    serve(tamper=True)
    llm = Atoma(model="m", base_url=URL, context_window=64, verify_signatures=True)
    column = CompleteColumn(llm, on_error="column", signer_column="signer")
    out = asyncio.run(column({"prompt": np.array(["a"], dtype=object)}))
    assert out["signer"][0] is None and "SignatureVerificationError" in out["error"][0]

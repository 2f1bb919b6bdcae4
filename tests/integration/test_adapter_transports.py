"""Every adapter's async calls on both connection pools, against the real llama.cpp server.

``transport="httpx"`` must change where the bytes go, never what comes back: each async
answer (streamed where the adapter streams) equals the sync one, which always runs on
httpx's pool. At temperature 0 the tiny model is deterministic.
"""

from __future__ import annotations

import pytest
from llama_index.core.llms import ChatMessage

from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat, AtomaEmbedding

TRANSPORTS = ["aiohttp", "httpx"]
TEXTS = ["Atoma serves open models.", "The sky is blue."]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_langchain_llm_and_chat(
    server_base_url: str, server_model: str, server_chat_model: str, transport: str
) -> None:
    common = {"base_url": server_base_url, "max_tokens": 8, "temperature": 0, "max_retries": 0}
    llm = AtomaLLM(model=server_model, transport=transport, **common)
    expected = llm.invoke("Once upon a time")
    assert expected
    assert await llm.ainvoke("Once upon a time") == expected
    assert "".join([p async for p in llm.astream("Once upon a time")]) == expected

    chat = ChatAtoma(model=server_chat_model, transport=transport, **common)
    reply = chat.invoke("hi").content
    assert reply
    assert (await chat.ainvoke("hi")).content == reply
    assert "".join([str(c.content) async for c in chat.astream("hi")]) == reply


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_llama_index_llm_and_chat(
    server_base_url: str, server_model: str, server_chat_model: str, transport: str
) -> None:
    common = {
        "base_url": server_base_url,
        "max_tokens": 8,
        "temperature": 0,
        "max_retries": 0,
        "context_window": 2048,
    }
    llm = Atoma(model=server_model, transport=transport, **common)
    expected = llm.complete("Once upon a time").text
    assert expected
    assert (await llm.acomplete("Once upon a time")).text == expected
    texts = [r.text async for r in await llm.astream_complete("Once upon a time")]
    assert len(texts) > 1 and texts[-1] == expected

    chat = AtomaChat(model=server_chat_model, transport=transport, **common)
    hi = [ChatMessage(role="user", content="hi")]
    reply = chat.chat(hi).message.content
    assert reply
    assert (await chat.achat(hi)).message.content == reply
    contents = [r.message.content async for r in await chat.astream_chat(hi)]
    assert contents and contents[-1] == reply


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_embeddings(server_base_url: str, server_embed_model: str, transport: str) -> None:
    lc = AtomaEmbeddings(
        model=server_embed_model, base_url=server_base_url, transport=transport, max_retries=0
    )
    assert await lc.aembed_documents(TEXTS) == lc.embed_documents(TEXTS)
    li = AtomaEmbedding(
        model_name=server_embed_model, base_url=server_base_url, transport=transport, max_retries=0
    )
    assert await li.aget_text_embedding_batch(TEXTS) == li.get_text_embedding_batch(TEXTS)

"""The by-hand recipes of docs/scale_out.md, one per client and adapter, as Ray runs them.

Each is what a user writes without the helper: a ``map_batches`` function (tasks) or a
callable class (actor pool) that takes an object built on the driver and calls it on
every row. The tests run them on Ray and compare every row with the server's answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from atoma_integrations import AsyncAtomaClient, AtomaClient


def complete_with_client(batch: dict[str, np.ndarray], client: AtomaClient) -> dict[str, Any]:
    """A plain function (Ray tasks): the sync client, one prompt after the other."""
    texts = []
    for prompt in batch["prompt"]:
        completion = client.completions.create(
            model=str(batch["model"][0]), prompt=str(prompt), max_tokens=4, temperature=0
        )
        texts.append(completion.choices[0].text)
    return {**batch, "completion": np.array(texts, dtype=object)}


class CompleteWithAsyncClient:
    """An async callable class (actor pool): the async client, every row in flight."""

    def __init__(self, client: AsyncAtomaClient, model: str) -> None:
        self.client = client
        self.model = model

    async def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        completions = await asyncio.gather(
            *(
                self.client.completions.create(
                    model=self.model, prompt=str(p), max_tokens=4, temperature=0
                )
                for p in batch["prompt"]
            )
        )
        texts = [c.choices[0].text for c in completions]
        return {**batch, "completion": np.array(texts, dtype=object)}


class CompleteWithLangChain:
    """LangChain's ``abatch`` in an async callable class; errors raised, not returned."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm

    async def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        texts = await self.llm.abatch([str(p) for p in batch["prompt"]])
        return {**batch, "completion": np.array(texts, dtype=object)}


class CompleteWithLlamaIndex:
    """LlamaIndex's ``acomplete`` per row, gathered, in an async callable class."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm

    async def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        responses = await asyncio.gather(*(self.llm.acomplete(str(p)) for p in batch["prompt"]))
        texts = [r.text for r in responses]
        return {**batch, "completion": np.array(texts, dtype=object)}


class ChatWithLangChain:
    """LangChain's chat model: ``abatch`` over the rows' prompts as user messages."""

    def __init__(self, chat: Any) -> None:
        self.chat = chat

    async def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        messages = await self.chat.abatch([[("user", str(p))] for p in batch["prompt"]])
        texts = [m.content for m in messages]
        return {**batch, "response": np.array(texts, dtype=object)}


class ChatWithLlamaIndex:
    """LlamaIndex's chat LLM: ``achat`` per row, gathered."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm

    async def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        from llama_index.core.llms import ChatMessage

        responses = await asyncio.gather(
            *(self.llm.achat([ChatMessage(role="user", content=str(p))]) for p in batch["prompt"])
        )
        texts = [r.message.content for r in responses]
        return {**batch, "response": np.array(texts, dtype=object)}


class EmbedWithLangChain:
    """LangChain's embeddings: ``aembed_documents`` on the whole batch."""

    def __init__(self, embeddings: Any) -> None:
        self.embeddings = embeddings

    async def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        vectors = await self.embeddings.aembed_documents([str(t) for t in batch["text"]])
        return {**batch, "embedding": np.asarray(vectors, dtype=np.float32)}


class EmbedWithLlamaIndex:
    """LlamaIndex's embedding model: ``aget_text_embedding_batch`` on the whole batch."""

    def __init__(self, embedding: Any) -> None:
        self.embedding = embedding

    async def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        vectors = await self.embedding.aget_text_embedding_batch([str(t) for t in batch["text"]])
        return {**batch, "embedding": np.asarray(vectors, dtype=np.float32)}

"""The embedding clients and adapters the benchmarks compare, behind one ``embed(texts)``.

Every peer embeds a list of texts the way its users write it, with the library's default
batching: the raw httpx floor and the clients post ``BATCH`` texts per request, one after
another; the framework objects cut batches themselves (LangChain's ``chunk_size``,
LlamaIndex's ``embed_batch_size``) with their defaults. Every peer must return one vector
per text, in input order (the canned server lists them in reverse, as a server may).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.peers import FLOOR, INCUMBENT, OURS
from benchmarks.sse_server import MODEL_ID

__all__ = ["BATCH", "EmbedPeer", "EmbedPeerSet", "build_embedding_peers", "texts"]

# Texts per request for the floor and the clients (LlamaIndex OpenAIEmbedding's default).
BATCH = 100


def texts(count: int) -> list[str]:
    """``count`` short, distinct texts."""
    return [f"Short text number {i} about the sea." for i in range(count)]


class EmbedPeer:
    """One library under test: embed many texts, get one vector per text, in order."""

    name: str = ""
    """Short name in the report."""
    family: str = ""
    """``client``, ``langchain`` or ``llama_index``."""
    kind: str = ""
    """``floor``, ``ours`` or ``incumbent``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        """The server's base URL, with ``/v1``."""

    def embed(self, inputs: list[str]) -> list[list[float]]:
        """One vector per input, in input order."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the peer's resources."""


class RawHttpxEmbed(EmbedPeer):
    """The floor: ``httpx.Client.post(...).json()``, vectors put in order by ``index``."""

    name = "httpx (floor)"
    family = "client"
    kind = FLOOR

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self._url = f"{base_url}/embeddings"
        self._http = httpx.Client()

    def embed(self, inputs: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for i in range(0, len(inputs), BATCH):
            body = {"model": MODEL_ID, "input": inputs[i : i + BATCH]}
            data = self._http.post(self._url, json=body).json()["data"]
            data.sort(key=lambda item: item["index"])
            vectors.extend(item["embedding"] for item in data)
        return vectors

    def close(self) -> None:
        self._http.close()


class OpenAISDKEmbed(EmbedPeer):
    """``openai.OpenAI().embeddings.create`` (it asks for base64 and decodes it)."""

    name = "openai SDK"
    family = "client"
    kind = INCUMBENT

    def __init__(self, base_url: str) -> None:
        import openai

        super().__init__(base_url)
        self._client = openai.OpenAI(base_url=base_url, api_key="x")

    def embed(self, inputs: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for i in range(0, len(inputs), BATCH):
            response = self._client.embeddings.create(model=MODEL_ID, input=inputs[i : i + BATCH])
            data = sorted(response.data, key=lambda item: item.index)
            vectors.extend(item.embedding for item in data)
        return vectors

    def close(self) -> None:
        self._client.close()


class AtomaClientEmbed(EmbedPeer):
    """``AtomaClient.embeddings.create``: the same requests as the floor."""

    name = "AtomaClient"
    family = "client"
    kind = OURS

    def __init__(self, base_url: str) -> None:
        from atoma_integrations import AtomaClient

        super().__init__(base_url)
        self._client = AtomaClient(base_url=base_url)

    def embed(self, inputs: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for i in range(0, len(inputs), BATCH):
            response = self._client.embeddings.create(model=MODEL_ID, input=inputs[i : i + BATCH])
            vectors.extend(response.embeddings)
        return vectors

    def close(self) -> None:
        self._client.close()


class LangChainOpenAIEmbed(EmbedPeer):
    """``langchain_openai.OpenAIEmbeddings`` sending text (no tiktoken length check)."""

    name = "OpenAIEmbeddings"
    family = "langchain"
    kind = INCUMBENT

    def __init__(self, base_url: str) -> None:
        from langchain_openai import OpenAIEmbeddings

        super().__init__(base_url)
        self._embeddings = OpenAIEmbeddings(
            model=MODEL_ID, base_url=base_url, api_key="x", check_embedding_ctx_length=False
        )

    def embed(self, inputs: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._embeddings.embed_documents(inputs)
        return vectors


class AtomaEmbeddingsPeer(EmbedPeer):
    """``atoma_integrations.langchain.AtomaEmbeddings.embed_documents``."""

    name = "AtomaEmbeddings"
    family = "langchain"
    kind = OURS

    def __init__(self, base_url: str) -> None:
        from atoma_integrations.langchain import AtomaEmbeddings

        super().__init__(base_url)
        self._embeddings = AtomaEmbeddings(model=MODEL_ID, base_url=base_url)

    def embed(self, inputs: list[str]) -> list[list[float]]:
        return self._embeddings.embed_documents(inputs)


class LlamaIndexOpenAIEmbed(EmbedPeer):
    """``llama_index.embeddings.openai.OpenAIEmbedding.get_text_embedding_batch``."""

    name = "OpenAIEmbedding"
    family = "llama_index"
    kind = INCUMBENT

    def __init__(self, base_url: str) -> None:
        from llama_index.embeddings.openai import (  # type: ignore[import-untyped]
            OpenAIEmbedding,
        )

        super().__init__(base_url)
        # model_name must be one OpenAIEmbedding knows; the canned server ignores it.
        self._embed = OpenAIEmbedding(api_base=base_url, api_key="x")

    def embed(self, inputs: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._embed.get_text_embedding_batch(inputs)
        return vectors


class AtomaEmbeddingPeer(EmbedPeer):
    """``atoma_integrations.llama_index.AtomaEmbedding.get_text_embedding_batch``."""

    name = "AtomaEmbedding"
    family = "llama_index"
    kind = OURS

    def __init__(self, base_url: str) -> None:
        from atoma_integrations.llama_index import AtomaEmbedding

        super().__init__(base_url)
        self._embed = AtomaEmbedding(model_name=MODEL_ID, base_url=base_url)

    def embed(self, inputs: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._embed.get_text_embedding_batch(inputs)
        return vectors


EMBED_PEER_TYPES: tuple[type[EmbedPeer], ...] = (
    RawHttpxEmbed,
    OpenAISDKEmbed,
    AtomaClientEmbed,
    LangChainOpenAIEmbed,
    AtomaEmbeddingsPeer,
    LlamaIndexOpenAIEmbed,
    AtomaEmbeddingPeer,
)


@dataclass
class EmbedPeerSet:
    """The embedding peers that could be built, and why the others could not."""

    peers: list[EmbedPeer] = field(default_factory=list)
    """Ready peers, the floor first."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Peer name -> why it was skipped."""

    def close(self) -> None:
        """Close every peer."""
        for peer in self.peers:
            peer.close()


def check_vectors(peer: EmbedPeer, inputs: list[str], vectors: Any, reference: Any) -> None:
    """A peer must return the floor's vectors: one per input, in input order."""
    if len(vectors) != len(inputs) or vectors != reference:
        raise RuntimeError(f"{peer.name} returned vectors that differ from raw httpx's")


def build_embedding_peers(base_url: str) -> EmbedPeerSet:
    """Every embedding peer that can be built against ``base_url``.

    Each is tried once on a few texts and must return exactly the floor's vectors; a broken
    or missing one is reported as skipped, with its error, instead of failing the run.
    """
    result = EmbedPeerSet()
    sample = texts(2 * BATCH + 3)
    reference: Any = None
    for peer_type in EMBED_PEER_TYPES:
        try:
            peer = peer_type(base_url)
            vectors = peer.embed(sample)
            if reference is None:
                reference = vectors
            check_vectors(peer, sample, vectors, reference)
        except Exception as exc:  # a missing package or adapter must not stop the run
            result.skipped[peer_type.name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        result.peers.append(peer)
    return result

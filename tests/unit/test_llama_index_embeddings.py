"""AtomaEmbedding: LlamaIndex's BaseEmbedding on the shared client: batches, events,
indexes and pipelines, errors, secrets, and async paths that never touch the sync client."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from pydantic import ValidationError

from atoma_integrations import ConfigurationError, RateLimitError
from atoma_integrations.llama_index import AtomaEmbedding
from atoma_integrations.llama_index.embeddings import DEFAULT_EMBED_BATCH_SIZE
from tests.support.llama_index_events import Events
from tests.support.mock_server import MockServer, embeddings_echo, json_reply, vector_for

BASE_URL = "http://testserver/v1"
KEY = "sk-atoma-embed-secret-456"


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A scripted embeddings server behind respx (the adapter's clients are shared)."""
    mock = MockServer([embeddings_echo])
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(f"{BASE_URL}/embeddings").mock(side_effect=mock.handle)
        yield mock


def make(**kwargs: Any) -> AtomaEmbedding:
    kwargs.setdefault("model_name", "m")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    return AtomaEmbedding(**kwargs)


class Callbacks(BaseCallbackHandler):
    """Records EMBEDDING callback events: the chunks and vectors at each end."""

    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.starts: list[dict[str, Any]] = []
        self.ends: list[dict[str, Any]] = []

    def on_event_start(
        self, event_type: CBEventType, payload: Any = None, event_id: str = "", **kw: Any
    ) -> str:
        if event_type == CBEventType.EMBEDDING:
            self.starts.append(payload or {})
        return event_id

    def on_event_end(
        self, event_type: CBEventType, payload: Any = None, event_id: str = "", **kw: Any
    ) -> None:
        if event_type == CBEventType.EMBEDDING:
            self.ends.append(payload or {})

    def start_trace(self, trace_id: str | None = None) -> None:
        pass

    def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
        pass


# -- construction -----------------------------------------------------------------------


def test_defaults_and_no_langchain_import() -> None:
    embed = make()
    assert embed.embed_batch_size == DEFAULT_EMBED_BATCH_SIZE
    assert embed.class_name() == "AtomaEmbedding"
    code = (
        "import sys, atoma_integrations.llama_index; "
        "print([m for m in sys.modules if m.startswith('langchain')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"embed_batch_size": 0}, "embed_batch_size"),
        ({"dimensions": 0}, "dimensions"),
        ({"model_name": ""}, "model_name"),
        ({"additional_kwargs": {"model": "other"}}, "additional_kwargs"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_settings_fail_at_construction_naming_the_field(
    kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        make(**kwargs)


def test_no_key_for_the_atoma_cloud_fails_at_construction_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="ATOMA_API_KEY"):
        AtomaEmbedding(model_name="m")


# -- calls ------------------------------------------------------------------------------


def test_query_and_text_send_one_text(server: MockServer) -> None:
    embed = make(dimensions=3, additional_kwargs={"truncate": True})
    assert embed.get_query_embedding("q") == vector_for("q")
    assert embed.get_text_embedding("t") == vector_for("t")
    assert server.bodies == [
        {"model": "m", "input": "q", "dimensions": 3, "truncate": True},
        {"model": "m", "input": "t", "dimensions": 3, "truncate": True},
    ]


def test_batches_honour_embed_batch_size_and_fire_one_event_each(
    server: MockServer, events: Events
) -> None:
    callbacks = Callbacks()
    embed = make(embed_batch_size=2, callback_manager=CallbackManager([callbacks]))
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    assert embed.get_text_embedding_batch(texts) == [vector_for(t) for t in texts]
    assert [body["input"] for body in server.bodies] == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert len(callbacks.starts) == len(callbacks.ends) == 3
    assert callbacks.ends[0][EventPayload.CHUNKS] == ["a", "bb"]
    assert callbacks.ends[0][EventPayload.EMBEDDINGS] == [vector_for("a"), vector_for("bb")]
    assert events.names("Embedding") == ["EmbeddingStartEvent", "EmbeddingEndEvent"] * 3


async def test_async_batches_use_only_the_async_client(
    server: MockServer, events: Events, no_sync_client: None
) -> None:
    callbacks = Callbacks()
    embed = make(embed_batch_size=2, callback_manager=CallbackManager([callbacks]))
    texts = ["a", "bb", "ccc"]
    assert await embed.aget_text_embedding_batch(texts) == [vector_for(t) for t in texts]
    assert await embed.aget_query_embedding("q") == vector_for("q")
    assert await embed.aget_text_embedding("t") == vector_for("t")
    assert sorted(len(body["input"]) for body in server.bodies[:2]) == [1, 2]
    assert len(callbacks.ends) == 4
    assert events.names("Embedding").count("EmbeddingEndEvent") == 4


def test_events_and_payloads_never_hold_the_key(server: MockServer, events: Events) -> None:
    callbacks = Callbacks()
    embed = make(api_key=KEY, callback_manager=CallbackManager([callbacks]))
    embed.get_text_embedding_batch(["a"])
    assert KEY not in repr(callbacks.starts) and KEY not in repr(events.events)
    assert callbacks.starts[0][EventPayload.SERIALIZED]["base_url"] == BASE_URL


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.get_query_embedding(""), "query to embed is an empty string"),
        (lambda e: e.get_text_embedding(3), "must be a string"),
        (lambda e: e.get_text_embedding_batch(["a", ""]), r"texts\[1\] is an empty string"),
    ],
)
def test_bad_input_fails_before_any_request(server: MockServer, call: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call(make())
    assert server.requests == []


def test_errors_are_the_core_types(server: MockServer) -> None:
    server.replies = [json_reply(429, {"error": {"message": "slow down"}})]
    with pytest.raises(RateLimitError, match="slow down"):
        make().get_text_embedding_batch(["a", "b"])


def test_same_object_works_across_event_loops(server: MockServer) -> None:
    embed = make()
    assert asyncio.run(embed.aget_query_embedding("a")) == vector_for("a")
    assert asyncio.run(embed.aget_query_embedding("b")) == vector_for("b")


# -- in an index and a pipeline ---------------------------------------------------------


def test_vector_store_index_and_ingestion_pipeline_embed_on_atoma(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    embed = make()
    monkeypatch.setattr(Settings, "_embed_model", embed)
    documents = [Document(text="a"), Document(text="bbbbbbbb"), Document(text="cccc")]
    index = VectorStoreIndex.from_documents(documents)
    assert len(server.requests) == 1  # three nodes, one batch
    nodes = index.as_retriever(similarity_top_k=1).retrieve("zzzzzzzz")
    assert len(nodes) == 1 and len(server.requests) == 2

    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0), embed]
    )
    nodes_out = pipeline.run(documents=documents)
    assert [n.embedding for n in nodes_out] == [vector_for(d.text) for d in documents]


# -- secrets and copies -----------------------------------------------------------------


def test_key_is_absent_from_repr_str_dict_json_and_payload() -> None:
    embed = make(api_key=KEY, default_headers={"X-Secret": "hdr-secret"})
    for text in (repr(embed), str(embed), str(embed.to_dict()), embed.to_json()):
        assert KEY not in text and "hdr-secret" not in text
    assert KEY not in str(embed.to_payload())


def test_round_trip_through_dict_keeps_the_settings() -> None:
    embed = make(embed_batch_size=7, dimensions=5)
    copy = AtomaEmbedding.from_dict(embed.to_dict())
    assert (copy.embed_batch_size, copy.dimensions, copy.base_url) == (7, 5, BASE_URL)


def test_pickle_keeps_an_explicit_key_and_never_an_environment_key(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pickle.loads(pickle.dumps(make(api_key=KEY))).get_query_embedding("x")
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"

    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env-old")
    embed = AtomaEmbedding(model_name="m", max_retries=0)
    embed.get_query_embedding("x")
    data = pickle.dumps(embed)
    assert b"sk-env-old" not in data
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env-new")
    pickle.loads(data).get_query_embedding("x")
    assert server.requests[-1].headers["authorization"] == "Bearer sk-env-new"

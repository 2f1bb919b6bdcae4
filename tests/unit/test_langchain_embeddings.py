"""AtomaEmbeddings: LangChain's Embeddings on the shared client, batching, errors, secrets."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from langchain_core.exceptions import ModelAuthenticationError, ModelRateLimitError
from langchain_core.load import dumpd, dumps, loads
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import ValidationError

from atoma_integrations import AuthenticationError, RateLimitError
from atoma_integrations.langchain import AtomaEmbeddings
from atoma_integrations.langchain.embeddings import DEFAULT_CHUNK_SIZE
from tests.support.mock_server import MockServer, embeddings_echo, json_reply, vector_for

BASE_URL = "http://testserver/v1"
KEY = "sk-atoma-embed-secret-123"


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A scripted embeddings server behind respx (the adapter's clients are shared)."""
    mock = MockServer([embeddings_echo])
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(url__regex=r"^http://[a-z]+/v1/embeddings$").mock(side_effect=mock.handle)
        yield mock


def make(**kwargs: Any) -> AtomaEmbeddings:
    kwargs.setdefault("model", "m")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    return AtomaEmbeddings(**kwargs)


def texts(count: int) -> list[str]:
    return [f"text number {i}" for i in range(count)]


# --- construction ----------------------------------------------------------------------------


def test_defaults() -> None:
    embeddings = make()
    assert embeddings.chunk_size == DEFAULT_CHUNK_SIZE
    assert embeddings.max_concurrency == 8
    assert embeddings.dimensions is None and embeddings.model_kwargs == {}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"chunk_size": 0}, "chunk_size"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"dimensions": 0}, "dimensions"),
        ({"model": ""}, "model"),
        ({"model_kwargs": {"input": ["x"]}}, "model_kwargs"),
        ({"model_kwargs": {"dimensions": 3}}, "model_kwargs"),
    ],
)
def test_bad_settings_fail_at_construction_naming_the_field(
    kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        make(**kwargs)


def test_no_key_for_the_atoma_cloud_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="ATOMA_API_KEY"):
        AtomaEmbeddings(model="m")


# --- requests --------------------------------------------------------------------------------


def test_documents_go_in_chunks_and_come_back_in_input_order(server: MockServer) -> None:
    docs = texts(7)
    vectors = make(chunk_size=3, dimensions=4, user="u", model_kwargs={"truncate": True})
    assert vectors.embed_documents(docs) == [vector_for(t) for t in docs]
    assert sorted(len(body["input"]) for body in server.bodies) == [1, 3, 3]
    assert sorted(body["input"][0] for body in server.bodies) == sorted([docs[0], docs[3], docs[6]])
    for body in server.bodies:
        assert body["model"] == "m" and body["dimensions"] == 4 and body["user"] == "u"
        assert body["truncate"] is True


async def test_async_documents_too(server: MockServer) -> None:
    docs = texts(5)
    assert await make(chunk_size=2).aembed_documents(docs) == [vector_for(t) for t in docs]
    assert sorted(len(body["input"]) for body in server.bodies) == [1, 2, 2]


def test_a_query_is_one_request_with_one_text(server: MockServer) -> None:
    assert make().embed_query("hello") == vector_for("hello")
    assert server.bodies == [{"model": "m", "input": "hello"}]


async def test_async_query(server: MockServer) -> None:
    assert await make().aembed_query("hello") == vector_for("hello")
    assert server.bodies == [{"model": "m", "input": "hello"}]


async def test_no_texts_means_no_request(server: MockServer) -> None:
    assert make().embed_documents([]) == []
    assert await make().aembed_documents([]) == []
    assert server.requests == []


@pytest.mark.parametrize(
    ("docs", "error", "message"),
    [
        (["a", "", "c"], ValueError, r"texts\[1\] is an empty string"),
        (["a", None], ValueError, r"texts\[1\] must be a string, got NoneType"),
        ("a single string", TypeError, "got one string"),
    ],
)
async def test_bad_texts_fail_naming_the_position_before_any_request(
    server: MockServer, docs: Any, error: type[Exception], message: str
) -> None:
    embeddings = make(chunk_size=1)
    with pytest.raises(error, match=message):
        embeddings.embed_documents(docs)
    with pytest.raises(error, match=message):
        await embeddings.aembed_documents(docs)
    assert server.requests == []


async def test_an_empty_query_fails_before_any_request(server: MockServer) -> None:
    with pytest.raises(ValueError, match="empty string"):
        make().embed_query("")
    with pytest.raises(TypeError, match="must be a string"):
        await make().aembed_query(3)  # type: ignore[arg-type]
    assert server.requests == []


def test_env_key_goes_only_where_the_env_points(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env")
    make().embed_query("x")
    assert "authorization" not in server.requests[0].headers
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    AtomaEmbeddings(model="m").embed_query("x")
    assert server.requests[1].headers["authorization"] == "Bearer sk-env"
    make(api_key=KEY).embed_query("x")
    assert server.requests[2].headers["authorization"] == f"Bearer {KEY}"


def test_in_memory_vector_store_finds_the_nearest_text(server: MockServer) -> None:
    store = InMemoryVectorStore.from_texts(["a", "bbbbbbbb", "cccc"], make())
    assert len(server.requests) == 1  # the three texts in one batch
    nearest = store.similarity_search_by_vector(vector_for("bbbbbbbb"), k=1)
    assert nearest[0].page_content == "bbbbbbbb"
    assert store.similarity_search("a", k=1)[0].page_content == "a"


# --- errors ----------------------------------------------------------------------------------


def test_errors_are_core_types_and_langchain_types(server: MockServer) -> None:
    server.replies = [json_reply(429, {"error": {"message": "slow down"}})]
    with pytest.raises(RateLimitError, match="slow down") as info:
        make(chunk_size=1).embed_documents(["a", "b", "c"])
    assert isinstance(info.value, ModelRateLimitError)
    server.replies = [json_reply(401, {"error": {"message": "who are you"}})]
    with pytest.raises(AuthenticationError) as auth:
        make(api_key=KEY).embed_query("a")
    assert isinstance(auth.value, ModelAuthenticationError)
    assert KEY not in str(auth.value)


async def test_async_errors_are_typed_too(server: MockServer) -> None:
    server.replies = [json_reply(429, {"error": {"message": "slow down"}})]
    with pytest.raises(ModelRateLimitError):
        await make(chunk_size=1).aembed_documents(["a", "b", "c"])
    with pytest.raises(ModelRateLimitError):
        await make().aembed_query("a")


def test_one_failing_batch_fails_the_call(server: MockServer) -> None:
    server.replies = [embeddings_echo, json_reply(500, {"error": {"message": "boom"}})]
    with pytest.raises(Exception, match="boom"):
        make(chunk_size=1, max_concurrency=1).embed_documents(["a", "b", "c"])


def test_same_object_works_across_event_loops(server: MockServer) -> None:
    embeddings = make()
    assert asyncio.run(embeddings.aembed_query("a")) == vector_for("a")
    assert asyncio.run(embeddings.aembed_query("b")) == vector_for("b")


# --- serialization and pickling --------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_dumps_never_contains_the_key_and_loads_round_trips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    embeddings = make(api_key=KEY, chunk_size=5, dimensions=3)
    assert KEY not in repr(embeddings) and KEY not in str(embeddings)
    text = dumps(embeddings)
    assert KEY not in text
    assert dumpd(embeddings)["kwargs"]["api_key"]["id"] == ["ATOMA_API_KEY"]
    monkeypatch.setenv("ATOMA_API_KEY", KEY)
    loaded = loads(
        text,
        valid_namespaces=["atoma_integrations"],
        allowed_objects=[AtomaEmbeddings],
        secrets_from_env=True,
    )
    assert isinstance(loaded, AtomaEmbeddings)
    assert (loaded.chunk_size, loaded.dimensions) == (5, 3)
    assert loaded.api_key is not None and loaded.api_key.get_secret_value() == KEY


def test_pickle_keeps_an_explicit_key_and_never_an_environment_key(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = pickle.loads(pickle.dumps(make(api_key=KEY)))
    copy.embed_query("x")
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"

    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env-old")
    embeddings = AtomaEmbeddings(model="m", max_retries=0)
    embeddings.embed_query("x")
    data = pickle.dumps(embeddings)
    assert b"sk-env-old" not in data
    monkeypatch.setenv("ATOMA_API_KEY", "sk-env-new")
    pickle.loads(data).embed_query("x")
    assert server.requests[-1].headers["authorization"] == "Bearer sk-env-new"

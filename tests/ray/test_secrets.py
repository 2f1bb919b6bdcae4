"""No API key in anything Ray serializes; a key from the environment is read in the worker.

Two checks: ``cloudpickle`` (Ray's serializer) of every object a user hands to Ray, and the
bytes Ray itself pickles while it runs a job (its serializer and its function export are
hooked in the driver). A key passed explicitly travels with its object (as pickling does
everywhere in the package); a key from the environment must not, and the server must still
receive it: from the worker's own environment (here Ray's ``runtime_env``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import ray
import ray.data
from ray import cloudpickle

from atoma_integrations import AsyncAtomaClient, AtomaClient, ConfigurationError
from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat, AtomaEmbedding
from atoma_integrations.ray import ChatColumn, CompleteColumn, EmbedColumn, map_column
from tests.support.fault_server import FaultServer, completion_reply

# Ray Data's export of a job's plan, runtime_env included (Ray's record, not our objects).
_TOPOLOGY = b"ray.data._internal.metadata_exporter"
ENV_KEY = "sk-env-7f3a91c2d4e5b6a7"
EXPLICIT_KEY = "sk-explicit-0c1d2e3f4a5b"


def _objects(url: str | None, key: str | None) -> dict[str, object]:
    """Every client, adapter and column class, built with ``key`` (None: from the env)."""
    conn: dict[str, Any] = {"api_key": key, "base_url": url}
    llm = {"model": "m", "max_tokens": 3, **conn}
    return {
        "AtomaClient": AtomaClient(**conn),
        "AsyncAtomaClient": AsyncAtomaClient(**conn),
        "AtomaLLM": AtomaLLM(**llm),
        "ChatAtoma": ChatAtoma(**llm),
        "AtomaEmbeddings": AtomaEmbeddings(model="e", **conn),
        "Atoma": Atoma(context_window=2048, **llm),
        "AtomaChat": AtomaChat(context_window=2048, **llm),
        "AtomaEmbedding": AtomaEmbedding(model_name="e", **conn),
        "CompleteColumn": CompleteColumn(AtomaLLM(**llm)),
        "ChatColumn": ChatColumn(AsyncAtomaClient(**conn), model="m"),
        "EmbedColumn": EmbedColumn(AtomaEmbedding(model_name="e", **conn)),
    }


def test_cloudpickle_of_every_object_leaves_an_environment_key_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    for name, obj in _objects(None, None).items():  # the Atoma cloud, key from the env
        payload = cloudpickle.dumps(obj)
        assert ENV_KEY.encode() not in payload, name
        # The copy reads the environment of the process that unpickles it (a worker's).
        monkeypatch.setenv("ATOMA_API_KEY", "sk-worker-own-key")
        copy = cloudpickle.loads(payload)
        if isinstance(copy, (AtomaClient, AsyncAtomaClient)):
            assert copy._config.api_key is not None
            assert copy._config.api_key.get_secret_value() == "sk-worker-own-key", name
        monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    for name, obj in _objects(None, EXPLICIT_KEY).items():
        payload = cloudpickle.dumps(obj)
        assert ENV_KEY.encode() not in payload, name
        assert EXPLICIT_KEY.encode() in payload, f"{name}: an explicit key travels"
        copy = cloudpickle.loads(payload)
        assert ENV_KEY not in repr(copy) and EXPLICIT_KEY not in repr(copy), name


def test_a_worker_without_the_key_says_so_when_it_unpickles_a_cloud_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    payload = cloudpickle.dumps(CompleteColumn(AtomaClient(), model="m"))
    monkeypatch.delenv("ATOMA_API_KEY")
    with pytest.raises(ConfigurationError, match="ATOMA_API_KEY"):
        cloudpickle.loads(payload)


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every byte string Ray pickles in this process while the test runs."""
    from ray._private import function_manager, serialization

    payloads: list[bytes] = []

    def recording(dumps: Any) -> Any:
        def record(obj: Any, *args: Any, **kwargs: Any) -> Any:
            data = dumps(obj, *args, **kwargs)
            payloads.append(bytes(data))
            return data

        return record

    class RecordingPickle:
        """``ray.cloudpickle`` as the serializer module sees it, with ``dumps`` recorded."""

        dumps = staticmethod(recording(serialization.pickle.dumps))

        def __getattr__(self, name: str) -> Any:
            return getattr(cloudpickle, name)

    # Task and actor arguments (the column class's constructor arguments among them) ...
    monkeypatch.setattr(serialization, "pickle", RecordingPickle())
    # ... and exported functions and actor classes.
    monkeypatch.setattr(function_manager, "pickle_dumps", recording(function_manager.pickle_dumps))
    return payloads


@pytest.fixture
def server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    server.always(completion_reply("ok"))
    try:
        yield server
    finally:
        server.stop()


def test_a_job_ships_no_environment_key_and_the_worker_reads_its_own(
    ray_cluster: Any, server: FaultServer, shipped: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The driver's environment names the server and the key; the adapter stores neither.
    monkeypatch.setenv("ATOMA_BASE_URL", server.url)
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    llm = AtomaLLM(model="m", max_tokens=3)
    ds = ray.data.from_items([{"prompt": f"p {i}"} for i in range(20)])
    worker_env = {"env_vars": {"ATOMA_BASE_URL": server.url, "ATOMA_API_KEY": ENV_KEY}}
    out = map_column(ds, CompleteColumn, source=llm, runtime_env=worker_env).take_all()

    assert [r["completion"] for r in out] == ["ok"] * 20
    # What carries our objects (the adapter inside the column class's arguments) has no
    # key. Ray itself does write the runtime_env, key included, into its own job metadata
    # (the Topology it exports): docs/scale_out.md says so, and how to keep it out.
    ours = [p for p in shipped if b"atoma_integrations" in p and _TOPOLOGY not in p]
    assert ours, "the hooks saw none of our objects: the check would be empty"
    assert not [p for p in ours if ENV_KEY.encode() in p]
    # Each request carried the key, which the worker found in its own environment.
    auth = {r.headers.get("authorization") for r in server.completions_requests()}
    assert auth == {f"Bearer {ENV_KEY}"}


def test_the_hooks_do_see_what_ray_ships(
    ray_cluster: Any, server: FaultServer, shipped: list[bytes]
) -> None:
    # The control: an explicit key does travel with the adapter, and the hooks catch it.
    llm = AtomaLLM(model="m", max_tokens=3, base_url=server.url, api_key=EXPLICIT_KEY)
    ds = ray.data.from_items([{"prompt": "p"}])
    assert map_column(ds, CompleteColumn, source=llm).take_all()[0]["completion"] == "ok"
    ours = [p for p in shipped if b"atoma_integrations" in p and _TOPOLOGY not in p]
    assert [p for p in ours if EXPLICIT_KEY.encode() in p]

"""AtomaChat (LlamaIndex) on a mocked transport: construction, settings, secrets, metadata."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from llama_index.core.llms import ChatMessage
from llama_index.core.llms.function_calling import FunctionCallingLLM
from pydantic import ValidationError

from atoma_integrations import ConfigurationError, _registry
from atoma_integrations.llama_index import AtomaChat
from tests.support.mock_server import MockServer, chat_completion, json_reply

BASE_URL = "http://testserver/v1"
KEY = "sk-atoma-secret-123"
OPEN_ROUTER = {"data": [{"id": "m", "context_length": 8192}]}
HI = [ChatMessage(role="user", content="hi")]


@pytest.fixture(autouse=True)
def _fresh_context_cache() -> Iterator[None]:
    """Each test starts with no context window known (the cache is per process)."""
    _registry.clear()
    yield
    _registry.clear()


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A scripted chat server behind respx (the adapter's clients are shared)."""
    mock = MockServer(replies=[json_reply(200, chat_completion("Hi"))])
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(f"{BASE_URL}/chat/completions").mock(side_effect=mock.handle)
        yield mock


def make_llm(**kwargs: Any) -> AtomaChat:
    kwargs.setdefault("model", "m")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    return AtomaChat(**kwargs)


# -- construction and validation ---------------------------------------------------------


def test_is_a_function_calling_llm_named_atoma_chat() -> None:
    llm = AtomaChat(model="m", base_url=BASE_URL)
    assert isinstance(llm, FunctionCallingLLM)
    assert AtomaChat.class_name() == "AtomaChat"
    assert (llm.max_tokens, llm.max_retries, llm.context_window, llm.stream_usage) == (
        256,
        2,
        None,
        True,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temperature", 2.5, "less than or equal to 2"),
        ("top_p", -0.1, "greater than or equal to 0"),
        ("max_tokens", 0, "greater than or equal to 1"),
        ("top_logprobs", 21, "less than or equal to 20"),
        ("stop", ["a", "b", "c", "d", "e"], "at most 4 stop sequences"),
        ("logit_bias", {"x": 1.0}, "integer token ids"),
        ("n", 0, "greater than or equal to 1"),
    ],
)
def test_out_of_range_parameters_fail_at_construction_naming_the_field(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        make_llm(**{field: value, "logprobs": True})
    assert info.value.errors()[0]["loc"] == (field,)
    assert message in str(info.value)


def test_completion_only_parameters_are_not_fields() -> None:
    for name in ("suffix", "echo", "best_of"):
        with pytest.raises(ValidationError, match=name):
            make_llm(**{name: 1})


def test_additional_kwargs_cannot_smuggle_request_fields() -> None:
    for name in ("temperature", "messages", "tools", "tool_choice", "response_format", "stream"):
        message = f"additional_kwargs must not set {name}: AtomaChat sends it"
        with pytest.raises(ValidationError, match=message):
            make_llm(additional_kwargs={name: 1})
    assert make_llm(additional_kwargs={"top_k": 40}).additional_kwargs == {"top_k": 40}


def test_bad_settings_fail_at_construction_with_the_clients_errors() -> None:
    with pytest.raises(ConfigurationError, match="ATOMA_API_KEY"):
        AtomaChat(model="m")
    with pytest.raises(ConfigurationError, match="base_url"):
        AtomaChat(model="m", base_url="ftp://example")
    with pytest.raises(ConfigurationError, match="max_retries"):
        AtomaChat(model="m", base_url=BASE_URL, max_retries=-1)


def test_construction_sends_no_request() -> None:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.route()
        make_llm()
    assert not route.called


# -- the key ----------------------------------------------------------------------------


def test_explicit_key_is_sent_as_bearer(server: MockServer) -> None:
    make_llm(api_key=KEY).chat(HI)
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_env_key_goes_to_atoma_base_url_only(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", "env-key")
    make_llm().chat(HI)  # an explicit base_url that ATOMA_BASE_URL does not name
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    AtomaChat(model="m", max_retries=0).chat(HI)
    assert [r.headers.get("authorization") for r in server.requests] == [None, "Bearer env-key"]


def test_key_is_absent_from_repr_str_dict_json_and_payload() -> None:
    llm = make_llm(api_key=KEY, default_headers={"X-Team": "t-secret"})
    for text in (
        repr(llm),
        str(llm),
        str(llm.to_dict()),
        llm.to_json(),
        llm.model_dump_json(),
        json.dumps(llm.to_payload()),
    ):
        assert KEY not in text
        assert "t-secret" not in text
    assert "api_key" not in llm.to_dict()


def test_round_trip_through_dict_keeps_the_settings() -> None:
    llm = make_llm(temperature=0.3, stop=["\n"], logprobs=True, additional_kwargs={"top_k": 5})
    copy = AtomaChat.from_dict(llm.to_dict())
    assert (copy.temperature, copy.stop, copy.logprobs, copy.additional_kwargs) == (
        0.3,
        ["\n"],
        True,
        {"top_k": 5},
    )


def test_pickle_carries_an_explicit_key_into_a_working_copy(server: MockServer) -> None:
    copy = pickle.loads(pickle.dumps(make_llm(api_key=KEY, temperature=0.1)))
    assert copy.chat(HI).message.content == "Hi"
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_pickle_does_not_contain_an_env_key_and_the_copy_reads_it_again(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", "env-key-one")
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    llm = AtomaChat(model="m", max_retries=0)
    llm.chat(HI)
    data = pickle.dumps(llm)
    assert b"env-key-one" not in data
    monkeypatch.setenv("ATOMA_API_KEY", "env-key-two")
    pickle.loads(data).chat(HI)
    assert [r.headers["authorization"] for r in server.requests] == [
        "Bearer env-key-one",
        "Bearer env-key-two",
    ]


# -- metadata and the context window -------------------------------------------------------


def test_metadata_describes_a_function_calling_chat_model() -> None:
    meta = make_llm(max_tokens=77, context_window=1000).metadata
    assert (meta.context_window, meta.num_output, meta.model_name) == (1000, 77, "m")
    assert meta.is_chat_model is True
    assert meta.is_function_calling_model is True


def test_context_window_comes_from_the_open_router_list_as_for_atoma() -> None:
    with respx.mock(using="httpx") as router:
        route = router.get(f"{BASE_URL}/open_router/models").mock(
            return_value=json_reply(200, OPEN_ROUTER)
        )
        llm = make_llm()
        assert llm.to_payload()["context_window"] is None  # not asked for by the payload
        assert llm.metadata.context_window == 8192
        assert llm.metadata.context_window == 8192
        assert llm.to_payload()["context_window"] == 8192
    assert route.call_count == 1


def test_payload_for_events_sends_no_request_and_says_what_the_model_is() -> None:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.route()
        payload = make_llm(api_key=KEY).to_payload()
    assert not route.called
    assert payload == {
        "class_name": "AtomaChat",
        "model_name": "m",
        "context_window": None,
        "num_output": 256,
        "is_chat_model": True,
        "is_function_calling_model": True,
        "base_url": BASE_URL,
    }

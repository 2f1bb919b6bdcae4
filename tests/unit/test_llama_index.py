"""Atoma (LlamaIndex) on a mocked transport: construction, settings, secrets, metadata."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from llama_index.core.llms import CustomLLM
from pydantic import ValidationError

from atoma_integrations import ConfigurationError, _registry
from atoma_integrations.llama_index import DEFAULT_CONTEXT_WINDOW, Atoma
from tests.support.mock_server import MockServer, completion, json_reply

BASE_URL = "http://testserver/v1"
KEY = "sk-atoma-secret-123"
OPEN_ROUTER = {
    "data": [
        {"id": "meta-llama/Llama-3.3-70B-Instruct", "context_length": 131072},
        {"id": "m", "context_length": 8192},
    ]
}


@pytest.fixture(autouse=True)
def _fresh_context_cache() -> Iterator[None]:
    """Each test starts with no context window known (the cache is per process)."""
    _registry.clear()
    yield
    _registry.clear()


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A scripted completions server behind respx (the adapter's clients are shared)."""
    mock = MockServer(replies=[json_reply(200, completion("Hi"))])
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(f"{BASE_URL}/completions").mock(side_effect=mock.handle)
        yield mock


def make_llm(**kwargs: Any) -> Atoma:
    kwargs.setdefault("model", "m")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    return Atoma(**kwargs)


# -- construction and validation ---------------------------------------------------------


def test_is_a_custom_llm_named_atoma() -> None:
    assert isinstance(make_llm(), CustomLLM)
    assert Atoma.class_name() == "Atoma"
    defaults = Atoma(model="m", base_url=BASE_URL)
    assert (defaults.max_tokens, defaults.max_retries, defaults.context_window) == (256, 2, None)
    assert defaults.additional_kwargs == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temperature", 2.5, "less than or equal to 2"),
        ("top_p", -0.1, "greater than or equal to 0"),
        ("max_tokens", 0, "greater than or equal to 1"),
        ("logprobs", 21, "less than or equal to 20"),
        ("presence_penalty", 3.0, "less than or equal to 2"),
        ("frequency_penalty", -3.0, "greater than or equal to -2"),
        ("stop", ["a", "b", "c", "d", "e"], "at most 4 stop sequences"),
        ("logit_bias", {"x": 1.0}, "integer token ids"),
        ("logit_bias", {"5": 101.0}, "less than or equal to 100"),
        ("n", 0, "greater than or equal to 1"),
    ],
)
def test_out_of_range_parameters_fail_at_construction_naming_the_field(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        make_llm(**{field: value})
    error = info.value.errors()[0]
    assert error["loc"] == (field,)
    assert message in str(info.value)


def test_parameters_are_normalized_like_the_client() -> None:
    llm = make_llm(stop="END", logit_bias={50256: -100})
    assert llm.stop == ["END"]
    assert llm.logit_bias == {"50256": -100.0}


def test_unknown_constructor_arguments_are_rejected() -> None:
    with pytest.raises(ValidationError, match="tempreature"):
        make_llm(tempreature=0.5)


def test_additional_kwargs_cannot_smuggle_generation_parameters() -> None:
    message = "additional_kwargs must not set temperature: Atoma sends it"
    with pytest.raises(ValidationError, match=message):
        make_llm(additional_kwargs={"temperature": 9})
    with pytest.raises(ValidationError, match="stream"):
        make_llm(additional_kwargs={"stream": True})
    assert make_llm(additional_kwargs={"top_k": 40}).additional_kwargs == {"top_k": 40}


def test_no_key_for_the_atoma_cloud_fails_at_construction_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="ATOMA_API_KEY"):
        Atoma(model="m")


def test_bad_settings_fail_at_construction_with_the_clients_errors() -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        Atoma(model="m", base_url="ftp://example")
    with pytest.raises(ConfigurationError, match="max_retries"):
        Atoma(model="m", base_url=BASE_URL, max_retries=-1)
    with pytest.raises(ConfigurationError, match="timeout"):
        Atoma(model="m", base_url=BASE_URL, timeout=0)
    with pytest.raises(ValidationError):
        Atoma(model="", base_url=BASE_URL)


def test_construction_sends_no_request() -> None:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.route()
        make_llm()
    assert not route.called


def test_importing_the_adapter_imports_no_langchain() -> None:
    code = (
        "import sys, atoma_integrations.llama_index; "
        "print(sorted(m for m in sys.modules if m.startswith('langchain')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# -- the key: where it goes, and where it never appears -------------------------------------


def test_explicit_key_is_sent_as_bearer(server: MockServer) -> None:
    make_llm(api_key=KEY).complete("x")
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_env_key_goes_to_atoma_base_url(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", "env-key")
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    Atoma(model="m", max_retries=0).complete("x")
    assert server.requests[0].headers["authorization"] == "Bearer env-key"


def test_sdk_env_key_is_the_fallback(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOMASDK_BEARER_AUTH", "sdk-key")
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    Atoma(model="m", max_retries=0).complete("x")
    assert server.requests[0].headers["authorization"] == "Bearer sdk-key"


def test_env_key_never_goes_to_another_host(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", "env-key")
    monkeypatch.setenv("OPENAI_API_KEY", "openai-key")
    make_llm().complete("x")
    assert "authorization" not in server.requests[0].headers


def test_key_is_absent_from_repr_str_dict_and_json() -> None:
    llm = make_llm(api_key=KEY, default_headers={"X-Team": "t-secret"})
    for text in (repr(llm), str(llm), str(llm.to_dict()), llm.to_json(), llm.model_dump_json()):
        assert KEY not in text
        assert "t-secret" not in text
    assert "api_key" not in llm.to_dict()
    assert llm.api_key is not None and llm.api_key.get_secret_value() == KEY


def test_payload_for_events_has_no_key_and_sends_no_request() -> None:
    llm = make_llm(api_key=KEY)
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.route()
        payload = llm.to_payload()
    assert not route.called
    assert KEY not in str(payload)
    assert payload["class_name"] == "Atoma"
    assert payload["model_name"] == "m"
    assert payload["base_url"] == BASE_URL
    assert payload["context_window"] is None  # not known yet, and not asked for here


def test_round_trip_through_dict_keeps_the_settings() -> None:
    llm = make_llm(temperature=0.3, stop=["\n"], additional_kwargs={"top_k": 5})
    copy = Atoma.from_dict(llm.to_dict())
    assert (copy.temperature, copy.stop, copy.additional_kwargs) == (0.3, ["\n"], {"top_k": 5})
    assert copy.base_url == BASE_URL


def test_pickle_carries_an_explicit_key_into_a_working_copy(server: MockServer) -> None:
    llm = make_llm(api_key=KEY, temperature=0.1)
    copy = pickle.loads(pickle.dumps(llm))
    assert copy.temperature == 0.1
    assert copy.complete("x").text == "Hi"
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_pickle_does_not_contain_an_env_key_and_the_copy_reads_it_again(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", "env-key-one")
    monkeypatch.setenv("ATOMA_BASE_URL", BASE_URL)
    llm = Atoma(model="m", max_retries=0)
    llm.complete("x")
    data = pickle.dumps(llm)
    assert b"env-key-one" not in data
    monkeypatch.setenv("ATOMA_API_KEY", "env-key-two")
    pickle.loads(data).complete("x")
    assert [r.headers["authorization"] for r in server.requests] == [
        "Bearer env-key-one",
        "Bearer env-key-two",
    ]


# -- metadata and the context window -------------------------------------------------------


def test_metadata_describes_a_completion_model() -> None:
    meta = make_llm(max_tokens=77, context_window=1000).metadata
    assert meta.context_window == 1000
    assert meta.num_output == 77
    assert meta.is_chat_model is False
    assert meta.model_name == "m"


def test_explicit_context_window_asks_nothing() -> None:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.route()
        assert make_llm(context_window=1000).metadata.context_window == 1000
    assert not route.called


def test_context_window_comes_from_open_router_list_once_per_base_url() -> None:
    with respx.mock(using="httpx") as router:
        route = router.get(f"{BASE_URL}/open_router/models").mock(
            return_value=json_reply(200, OPEN_ROUTER)
        )
        first = make_llm(model="meta-llama/Llama-3.3-70B-Instruct")
        second = make_llm(model="m")
        assert first.metadata.context_window == 131072
        assert first.metadata.context_window == 131072
        assert second.metadata.context_window == 8192
        # Now known: reported in event payloads too, still without a request.
        assert second.to_payload()["context_window"] == 8192
    assert route.call_count == 1


def test_no_list_on_the_server_means_the_default_and_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with respx.mock(using="httpx") as router:
        route = router.get(f"{BASE_URL}/open_router/models").mock(
            return_value=json_reply(404, {"detail": "Not Found"})
        )
        llm = make_llm()
        with caplog.at_level(logging.WARNING, logger="atoma_integrations"):
            windows = [llm.metadata.context_window for _ in range(3)]
            windows.append(make_llm().metadata.context_window)
    assert windows == [DEFAULT_CONTEXT_WINDOW] * 4
    assert route.call_count == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "context_window" in warnings[0].getMessage()
    assert str(DEFAULT_CONTEXT_WINDOW) in warnings[0].getMessage()


def test_model_missing_from_the_list_means_the_default_with_a_warning_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with respx.mock(using="httpx") as router:
        router.get(f"{BASE_URL}/open_router/models").mock(return_value=json_reply(200, OPEN_ROUTER))
        with caplog.at_level(logging.WARNING, logger="atoma_integrations"):
            window = make_llm(model="other/model").metadata.context_window
    assert window == DEFAULT_CONTEXT_WINDOW
    assert "'other/model'" in caplog.text


def test_an_unreachable_server_also_falls_back_says_why_and_is_asked_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with respx.mock(using="httpx") as router:
        route = router.get(f"{BASE_URL}/open_router/models").mock(
            side_effect=httpx.ConnectError("refused")
        )
        llm = make_llm()
        with caplog.at_level(logging.WARNING, logger="atoma_integrations"):
            assert llm.metadata.context_window == DEFAULT_CONTEXT_WINDOW
            assert llm.metadata.context_window == DEFAULT_CONTEXT_WINDOW
    assert route.call_count == 1
    assert "could not read the context lengths" in caplog.text
    assert "ConnectError" in caplog.text


def test_each_base_url_is_asked_separately() -> None:
    other = "http://other-server/v1"
    with respx.mock(using="httpx") as router:
        first = router.get(f"{BASE_URL}/open_router/models").mock(
            return_value=json_reply(200, OPEN_ROUTER)
        )
        second = router.get(f"{other}/open_router/models").mock(
            return_value=json_reply(404, {"detail": "Not Found"})
        )
        assert make_llm().metadata.context_window == 8192
        assert make_llm(base_url=other).metadata.context_window == DEFAULT_CONTEXT_WINDOW
    assert (first.call_count, second.call_count) == (1, 1)

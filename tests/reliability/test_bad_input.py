"""Bad input fails before anything is sent, with an error that names the field at fault.

A table of invalid calls (each parameter out of range or of the wrong type, empty or
missing model and prompt, too many stop strings, non-integer logit_bias keys, bad
timeouts, unknown parameters) goes through all four entry points (sync and async,
``create`` and ``create_stream``); then a table of invalid client settings. The fault
server is the target each time, and must receive no request at all.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient
from atoma_integrations._adapters import GENERATION_PARAMS
from tests.support.fault_server import FaultServer, completion_reply

MISSING = object()
VALID: dict[str, Any] = {"model": "fault-model", "prompt": "Say hello", "max_tokens": 8}

# (test id, the invalid argument(s), the field name the error must mention)
BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("model-missing", {"model": MISSING}, "model"),
    ("model-empty", {"model": ""}, "model"),
    ("model-none", {"model": None}, "model"),
    ("model-int", {"model": 123}, "model"),
    ("model-list", {"model": ["a"]}, "model"),
    ("prompt-missing", {"prompt": MISSING}, "prompt"),
    ("prompt-empty", {"prompt": ""}, "prompt"),
    ("prompt-empty-list", {"prompt": []}, "prompt"),
    ("prompt-list-of-empty", {"prompt": ["ok", ""]}, "prompt"),
    ("prompt-int", {"prompt": 42}, "prompt"),
    ("prompt-bytes", {"prompt": b"hello"}, "prompt"),
    ("prompt-dict", {"prompt": {"text": "hi"}}, "prompt"),
    ("max_tokens-zero", {"max_tokens": 0}, "max_tokens"),
    ("max_tokens-negative", {"max_tokens": -1}, "max_tokens"),
    ("max_tokens-str", {"max_tokens": "10"}, "max_tokens"),
    ("max_tokens-float", {"max_tokens": 1.5}, "max_tokens"),
    ("max_tokens-bool", {"max_tokens": True}, "max_tokens"),
    ("temperature-negative", {"temperature": -0.1}, "temperature"),
    ("temperature-above-2", {"temperature": 2.5}, "temperature"),
    ("temperature-str", {"temperature": "hot"}, "temperature"),
    ("top_p-above-1", {"top_p": 1.5}, "top_p"),
    ("top_p-negative", {"top_p": -0.1}, "top_p"),
    ("n-zero", {"n": 0}, "n"),
    ("n-str", {"n": "2"}, "n"),
    ("stop-five", {"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ("stop-empty-string", {"stop": [""]}, "stop"),
    ("stop-int", {"stop": 42}, "stop"),
    ("stop-list-of-int", {"stop": [1]}, "stop"),
    ("seed-str", {"seed": "x"}, "seed"),
    ("seed-float", {"seed": 1.5}, "seed"),
    ("logprobs-above-20", {"logprobs": 21}, "logprobs"),
    ("logprobs-negative", {"logprobs": -1}, "logprobs"),
    ("logit_bias-word-key", {"logit_bias": {"abc": 1.0}}, "logit_bias"),
    ("logit_bias-float-key", {"logit_bias": {1.5: 1.0}}, "logit_bias"),
    ("logit_bias-negative-key", {"logit_bias": {"-5": 1.0}}, "logit_bias"),
    ("logit_bias-above-100", {"logit_bias": {"12": 101}}, "logit_bias"),
    ("logit_bias-below-minus-100", {"logit_bias": {"12": -101}}, "logit_bias"),
    ("logit_bias-list", {"logit_bias": [1, 2]}, "logit_bias"),
    ("presence_penalty-above-2", {"presence_penalty": 2.1}, "presence_penalty"),
    ("presence_penalty-below-minus-2", {"presence_penalty": -3}, "presence_penalty"),
    ("frequency_penalty-above-2", {"frequency_penalty": 2.5}, "frequency_penalty"),
    ("frequency_penalty-str", {"frequency_penalty": "x"}, "frequency_penalty"),
    ("suffix-int", {"suffix": 5}, "suffix"),
    ("echo-str", {"echo": "yes"}, "echo"),
    ("best_of-zero", {"best_of": 0}, "best_of"),
    ("user-int", {"user": 42}, "user"),
    ("timeout-negative", {"timeout": -1}, "timeout"),
    ("timeout-zero", {"timeout": 0}, "timeout"),
    ("timeout-str", {"timeout": "fast"}, "timeout"),
    ("timeout-negative-httpx", {"timeout": httpx.Timeout(-1.0)}, "timeout"),
    ("extra_body-str", {"extra_body": "top_k=5"}, "extra_body"),
    ("unknown-parameter", {"temprature": 0.5}, "temprature"),
    # The method says whether to stream: a ``stream`` argument would make create() send a
    # streaming request and then fail to parse the SSE answer.
    ("stream-as-parameter", {"stream": True}, "stream"),
    ("stream-in-extra_body", {"extra_body": {"stream": True}}, "stream"),
]


def _call(overrides: dict[str, Any]) -> dict[str, Any]:
    params = {**VALID, **overrides}
    return {k: v for k, v in params.items() if v is not MISSING}


def _assert_names(error: BaseException, field: str) -> None:
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    assert field in str(error), f"{field!r} not named in: {error}"


async def _fails_at_every_entry_point(
    server: FaultServer, endpoint: str, params: dict[str, Any], field: str
) -> None:
    """Sync and async, ``create`` and ``create_stream``: each raises naming ``field``."""
    with AtomaClient(base_url=server.url, max_retries=0) as client:
        resource: Any = client.chat.completions if endpoint == "chat" else client.completions
        with pytest.raises((ValueError, TypeError)) as create:
            resource.create(**params)
        _assert_names(create.value, field)
        with pytest.raises((ValueError, TypeError)) as stream:
            resource.create_stream(**params)
        _assert_names(stream.value, field)

    async with AsyncAtomaClient(base_url=server.url, max_retries=0) as aclient:
        aresource: Any = aclient.chat.completions if endpoint == "chat" else aclient.completions
        with pytest.raises((ValueError, TypeError)) as acreate:
            await aresource.create(**params)
        _assert_names(acreate.value, field)
        with pytest.raises((ValueError, TypeError)) as astream:
            # Checked when the stream is created, before ``async with`` sends anything.
            aresource.create_stream(**params)
        _assert_names(astream.value, field)

    assert server.requests == []


@pytest.mark.parametrize(
    ("overrides", "field"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
async def test_invalid_call_fails_naming_the_field_and_sends_nothing(
    fault_server: FaultServer, overrides: dict[str, Any], field: str
) -> None:
    fault_server.always(completion_reply())
    await _fails_at_every_entry_point(fault_server, "completions", _call(overrides), field)


# The sampling fields are the completions' own (one declaration); these are what chat adds.
CHAT_VALID: dict[str, Any] = {
    "model": "fault-model",
    "messages": [{"role": "user", "content": "Say hello"}],
    "max_tokens": 8,
}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
BAD_CHAT_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("messages-missing", {"messages": MISSING}, "messages"),
    ("messages-empty", {"messages": []}, "messages"),
    ("messages-str", {"messages": "hello"}, "messages"),
    ("role-unknown", {"messages": [{"role": "robot", "content": "x"}]}, "robot"),
    ("role-missing", {"messages": [{"content": "x"}]}, "role"),
    ("content-missing", {"messages": [{"role": "user"}]}, "content"),
    ("content-int", {"messages": [{"role": "user", "content": 5}]}, "content"),
    ("content-image-part", {"messages": [{"role": "user", "content": [{"type": "img"}]}]}, "text"),
    ("tool-without-id", {"messages": [{"role": "tool", "content": "4"}]}, "tool_call_id"),
    ("assistant-empty", {"messages": [{"role": "assistant", "content": None}]}, "tool_calls"),
    ("tools-not-function", {"tools": [{"type": "retrieval"}]}, "tools"),
    ("tool-name-spaces", {"tools": [{"function": {"name": "get weather"}}]}, "name"),
    ("tool_choice-unknown", {"tools": [TOOL], "tool_choice": "sometimes"}, "tool_choice"),
    (
        "tool_choice-not-in-tools",
        {"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "other"}}},
        "other",
    ),
    ("tool_choice-required-no-tools", {"tool_choice": "required"}, "tool_choice"),
    ("response_format-unknown", {"response_format": {"type": "yaml"}}, "response_format"),
    (
        "json_schema-without-name",
        {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
        "name",
    ),
    ("top_logprobs-without-logprobs", {"top_logprobs": 2}, "logprobs"),
    ("logprobs-int", {"logprobs": 5}, "logprobs"),
    ("parallel_tool_calls-str", {"parallel_tool_calls": "yes"}, "parallel_tool_calls"),
    ("max_completion_tokens-zero", {"max_completion_tokens": 0}, "max_completion_tokens"),
    ("temperature-above-2", {"temperature": 2.5}, "temperature"),
    ("prompt-on-chat", {"prompt": "hi"}, "prompt"),
]


@pytest.mark.parametrize(
    ("overrides", "field"), [c[1:] for c in BAD_CHAT_CALLS], ids=[c[0] for c in BAD_CHAT_CALLS]
)
async def test_invalid_chat_call_fails_naming_the_field_and_sends_nothing(
    fault_server: FaultServer, overrides: dict[str, Any], field: str
) -> None:
    fault_server.always(completion_reply())
    params = {k: v for k, v in {**CHAT_VALID, **overrides}.items() if v is not MISSING}
    await _fails_at_every_entry_point(fault_server, "chat", params, field)


def test_the_table_is_big_enough() -> None:
    # The issue asks for at least 40 invalid calls, covering every parameter.
    assert len(BAD_CALLS) >= 40
    named = {field for _, _, field in BAD_CALLS}
    assert set(GENERATION_PARAMS) | {"model", "prompt", "timeout"} <= named


# (test id, client settings, field name the error must mention)
BAD_SETTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("base_url-not-a-url", {"base_url": "not a url"}, "base_url"),
    ("base_url-ftp", {"base_url": "ftp://127.0.0.1/v1"}, "base_url"),
    ("base_url-no-host", {"base_url": "http://"}, "base_url"),
    ("base_url-query", {"base_url": "{url}?key=1"}, "base_url"),
    ("base_url-fragment", {"base_url": "{url}#frag"}, "base_url"),
    ("base_url-empty", {"base_url": ""}, "base_url"),
    ("api_key-empty", {"api_key": "  "}, "api_key"),
    ("max_retries-negative", {"max_retries": -1}, "max_retries"),
    ("max_retries-str", {"max_retries": "2"}, "max_retries"),
    ("max_retries-float", {"max_retries": 1.5}, "max_retries"),
    ("timeout-negative", {"timeout": -1}, "timeout"),
    ("timeout-str", {"timeout": "slow"}, "timeout"),
    (
        "authorization-header-and-key",
        {"api_key": "k", "default_headers": {"Authorization": "x"}},
        "api_key",
    ),
]


@pytest.mark.parametrize(
    ("settings", "field"), [c[1:] for c in BAD_SETTINGS], ids=[c[0] for c in BAD_SETTINGS]
)
async def test_invalid_client_settings_fail_naming_the_setting(
    fault_server: FaultServer, settings: dict[str, Any], field: str
) -> None:
    kwargs = {"base_url": fault_server.url, "max_retries": 0, **settings}
    if isinstance(kwargs["base_url"], str):
        kwargs["base_url"] = kwargs["base_url"].replace("{url}", fault_server.url)

    for cls in (AtomaClient, AsyncAtomaClient):
        with pytest.raises(ValueError) as error:
            cls(**kwargs)
        _assert_names(error.value, field)
    assert fault_server.requests == []


def test_malformed_atoma_base_url_variable_is_named(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMA_BASE_URL", "127.0.0.1:8000/v1")  # no scheme
    with pytest.raises(ValueError) as error:
        AtomaClient()
    _assert_names(error.value, "ATOMA_BASE_URL")

"""The API key never leaks: not in text, logs, errors, pickles or dumps, nor to the wrong host.

Every check looks for the literal key in whatever a user (or a log shipper, a tracing
backend, a task queue) could see. The routing checks read the ``Authorization`` header
the fault server actually received: a key from the environment goes only to the Atoma
cloud or to ``ATOMA_BASE_URL``, never to another ``base_url`` (``_config``'s rule,
ARCHITECTURE.md).
"""

from __future__ import annotations

import logging
import os
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps
from llama_index.core.llms import ChatMessage

from atoma_integrations import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncAtomaClient,
    AtomaClient,
    AtomaError,
    StreamInterruptedError,
)
from atoma_integrations.langchain import AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat
from tests.support.fault_server import (
    Behaviour,
    FaultServer,
    NoAnswer,
    Reply,
    completion_reply,
    completion_stream,
    error_reply,
    use_chat_shape,
)

from ._runs import CHAT_PARAMS, PARAMS

KEY = "sk-atoma-" + "7f3c9a1e" * 4  # distinctive, so any copy of it is found
ENV_KEY = "sk-atoma-env-" + "b2d4e6f8" * 4
LIBRARY_PATHS = (
    os.sep + "atoma_integrations" + os.sep,
    os.sep + "httpx" + os.sep,
    os.sep + "httpcore" + os.sep,
)


def _no_key(text: str | bytes, *keys: str) -> None:
    for key in keys or (KEY, ENV_KEY):
        if isinstance(text, bytes):
            assert key.encode() not in text, "the API key leaked"
        else:
            assert key not in text, "the API key leaked"


# --- Objects: repr, str, pickles, framework serialization -------------------------------


@pytest.mark.parametrize("cls", [AtomaClient, AsyncAtomaClient])
def test_client_repr_and_str_hide_the_key(fault_server: FaultServer, cls: type) -> None:
    client = cls(KEY, base_url=fault_server.url)
    _no_key(repr(client))
    _no_key(str(client))
    assert "api_key=<set>" in repr(client)


@pytest.mark.parametrize("cls", [AtomaClient, AsyncAtomaClient])
def test_client_pickle_never_holds_an_environment_key(
    monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer, cls: type
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    monkeypatch.setenv("ATOMA_BASE_URL", fault_server.url)
    _no_key(pickle.dumps(cls()))


def _langchain_llm(url: str, **kwargs: object) -> AtomaLLM:
    return AtomaLLM(model="fault-model", base_url=url, max_tokens=8, max_retries=0, **kwargs)


def _llama_llm(url: str, **kwargs: object) -> Atoma:
    return Atoma(
        model="fault-model",
        base_url=url,
        max_tokens=8,
        max_retries=0,
        context_window=2048,
        **kwargs,
    )


def _llama_chat(url: str, **kwargs: object) -> AtomaChat:
    settings: dict[str, object] = {"max_tokens": 8, "max_retries": 0, "context_window": 2048}
    return AtomaChat(model="fault-model", base_url=url, **{**settings, **kwargs})


def _langchain_chat(url: str, **kwargs: object) -> ChatAtoma:
    return ChatAtoma(model="fault-model", base_url=url, max_tokens=8, max_retries=0, **kwargs)


@pytest.mark.parametrize("make", [_langchain_llm, _langchain_chat], ids=["llm", "chat"])
def test_langchain_llm_text_and_dumps_hide_the_key(
    fault_server: FaultServer, make: Callable[..., AtomaLLM | ChatAtoma]
) -> None:
    llm = make(fault_server.url, api_key=KEY)
    _no_key(repr(llm))
    _no_key(str(llm))
    _no_key(dumps(llm))
    _no_key(repr(dumpd(llm)))
    _no_key(llm.model_dump_json())
    _no_key(repr(llm._identifying_params))  # the cache key and tracing parameters
    assert '"type": "secret"' in dumps(llm)  # a reference to ATOMA_API_KEY instead


@pytest.mark.parametrize("make", [_llama_llm, _llama_chat], ids=["Atoma", "AtomaChat"])
def test_llama_index_llm_text_and_to_json_hide_the_key(
    fault_server: FaultServer, make: Callable[..., Atoma | AtomaChat]
) -> None:
    llm = make(fault_server.url, api_key=KEY)
    _no_key(repr(llm))
    _no_key(str(llm))
    _no_key(llm.to_json())
    _no_key(repr(llm.to_dict()))
    _no_key(repr(llm.to_payload()))
    _no_key(llm.model_dump_json())


@pytest.mark.parametrize(
    "make",
    [_langchain_llm, _langchain_chat, _llama_llm, _llama_chat],
    ids=["langchain", "langchain_chat", "llama_index", "llama_index_chat"],
)
def test_adapter_pickle_never_holds_an_environment_key(
    monkeypatch: pytest.MonkeyPatch,
    fault_server: FaultServer,
    make: Callable[..., object],
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    monkeypatch.setenv("ATOMA_BASE_URL", fault_server.url)
    _no_key(pickle.dumps(make(fault_server.url)))


# --- Errors: messages, tracebacks (with locals), pickles --------------------------------

ERROR_FAULTS: dict[str, Behaviour] = {
    "401": error_reply(401, code="AUTH_ERROR", message="Authentication failed"),
    "500": error_reply(500),
    "no-answer": NoAnswer(),
    "timeout": Reply(200, b"{}", delay=2.0),
    "stream-drop": completion_stream(["Hel", "lo"], drop_after=1),
    "stream-malformed": Reply(200, b"data: {oops\n\n", content_type="text/event-stream"),
}


ENDPOINTS = ("completions", "chat")


def _error_for(url: str, fault: str, endpoint: str) -> AtomaError:
    with AtomaClient(KEY, base_url=url, max_retries=0, timeout=0.2) as client:
        resource: Any = client.chat.completions if endpoint == "chat" else client.completions
        params = CHAT_PARAMS if endpoint == "chat" else PARAMS
        try:
            if fault.startswith("stream"):
                with resource.create_stream(**params) as stream:
                    for _ in stream:
                        pass
            else:
                resource.create(**params)
        except AtomaError as exc:
            return exc
    raise AssertionError(f"{fault} raised nothing")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("fault", list(ERROR_FAULTS))
def test_errors_never_show_the_key(fault_server: FaultServer, fault: str, endpoint: str) -> None:
    fault_server.always(ERROR_FAULTS[fault])

    error = _error_for(fault_server.url, fault, endpoint)

    expected = {
        "401": APIStatusError,
        "500": APIStatusError,
        "no-answer": APIConnectionError,
        "timeout": APITimeoutError,
        "stream-drop": StreamInterruptedError,
        "stream-malformed": StreamInterruptedError,
    }[fault]
    assert isinstance(error, expected)
    _no_key(str(error))
    _no_key(repr(error))
    _no_key("".join(traceback.format_exception(error)))
    # Tools such as Sentry or rich print the local variables of every frame: those of
    # the library's own frames (and httpx's) must not hold the key either.
    frames = traceback.TracebackException.from_exception(error, capture_locals=True)
    chain: list[traceback.TracebackException] = [frames]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    for link in chain:
        for frame in link.stack:
            if any(part in frame.filename for part in LIBRARY_PATHS):
                _no_key(repr(frame.locals))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("fault", list(ERROR_FAULTS))
def test_pickled_errors_never_carry_the_key(
    fault_server: FaultServer, fault: str, endpoint: str
) -> None:
    # Errors cross process pools and task queues pickled; the request headers they could
    # reach (error.response.request) hold the key and must stay behind.
    fault_server.always(ERROR_FAULTS[fault])
    error = _error_for(fault_server.url, fault, endpoint)

    data = pickle.dumps(error)

    _no_key(data)
    copy = pickle.loads(data)
    assert str(copy) == str(error)
    if isinstance(error, APIStatusError):
        assert (copy.status_code, copy.code, copy.request_id) == (
            error.status_code,
            error.code,
            error.request_id,
        )
    if isinstance(error, StreamInterruptedError):
        assert copy.text == error.text
        assert copy.partial_message == error.partial_message
    assert type(copy) is type(error)


# --- Logs at DEBUG, httpx's and httpcore's included --------------------------------------


async def test_debug_logs_never_show_the_key(
    fault_server: FaultServer, caplog: pytest.LogCaptureFixture, backoff: list[float]
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: httpx, httpcore, atoma_integrations
    fault_server.enqueue(
        error_reply(503),  # a retry, which the client logs with the error
        completion_reply(),
        completion_stream(["a", "b"]),
        error_reply(401, code="AUTH_ERROR", message="Authentication failed"),
        completion_stream(["a", "b"], drop_after=1),
    )
    fault_server.always(completion_reply())

    with AtomaClient(KEY, base_url=fault_server.url, max_retries=1) as client:
        client.completions.create(**PARAMS)
        with client.completions.create_stream(**PARAMS) as stream:
            list(stream)
        with pytest.raises(AtomaError):
            client.completions.create(**PARAMS)
        with pytest.raises(AtomaError), client.completions.create_stream(**PARAMS) as stream:
            list(stream)
    async with AsyncAtomaClient(KEY, base_url=fault_server.url, max_retries=1) as aclient:
        await aclient.completions.create(**PARAMS)
    _langchain_llm(fault_server.url, api_key=KEY).invoke("hi")
    _llama_llm(fault_server.url, api_key=KEY).complete("hi")

    names = {record.name.split(".")[0] for record in caplog.records}
    assert {"httpx", "httpcore", "atoma_integrations"} <= names  # the capture saw them all
    assert backoff  # the retry (and its log line) happened
    _no_key(caplog.text)
    for record in caplog.records:
        _no_key(record.getMessage())
        _no_key(repr(record.args))
    assert fault_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_debug_logs_of_atoma_chat_never_show_the_key(
    fault_server: FaultServer, caplog: pytest.LogCaptureFixture, backoff: list[float]
) -> None:
    use_chat_shape(True)  # the suite's conftest sets it back after the test
    caplog.set_level(logging.DEBUG)
    fault_server.enqueue(
        error_reply(503),
        completion_reply(),
        completion_stream(["a", "b"]),
        completion_stream(["a", "b"], drop_after=1),
    )
    fault_server.always(completion_reply())
    llm = _llama_chat(fault_server.url, api_key=KEY, max_retries=1)
    hi = [ChatMessage(role="user", content="hi")]

    llm.chat(hi)
    list(llm.stream_chat(hi))
    with pytest.raises(StreamInterruptedError) as error:
        list(llm.stream_chat(hi))
    await llm.achat(hi)

    assert backoff
    _no_key(caplog.text)
    _no_key(str(error.value))
    _no_key(repr(error.value.partial_message))
    for record in caplog.records:
        _no_key(record.getMessage())
        _no_key(repr(record.args))
    assert fault_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


# --- Where an environment key may go ----------------------------------------------------


def _authorization(server: FaultServer) -> list[str | None]:
    return [r.headers.get("authorization") for r in server.requests]


@pytest.mark.parametrize("variable", ["ATOMA_API_KEY", "ATOMASDK_BEARER_AUTH"])
async def test_an_environment_key_is_not_sent_to_an_explicit_other_base_url(
    monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer, variable: str
) -> None:
    monkeypatch.setenv(variable, ENV_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # never read, whatever the URL
    fault_server.always(completion_reply())

    with AtomaClient(base_url=fault_server.url) as client:
        client.completions.create(**PARAMS)
    async with AsyncAtomaClient(base_url=fault_server.url) as aclient:
        await aclient.completions.create(**PARAMS)
    _langchain_llm(fault_server.url).invoke("hi")
    await _langchain_llm(fault_server.url).ainvoke("hi")
    _llama_llm(fault_server.url).complete("hi")
    await _llama_llm(fault_server.url).acomplete("hi")

    assert _authorization(fault_server) == [None] * 6


async def test_an_environment_key_goes_to_atoma_base_url(
    monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer
) -> None:
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    # The variable and the explicit URL name the same place, spelled differently.
    monkeypatch.setenv("ATOMA_BASE_URL", fault_server.url + "/")
    fault_server.always(completion_reply())

    with AtomaClient() as client:
        client.completions.create(**PARAMS)
    async with AsyncAtomaClient(base_url=fault_server.url) as aclient:
        await aclient.completions.create(**PARAMS)
    AtomaLLM(model="fault-model", max_tokens=8).invoke("hi")
    Atoma(model="fault-model", max_tokens=8, context_window=2048).complete("hi")

    assert _authorization(fault_server) == [f"Bearer {ENV_KEY}"] * 4


async def test_atoma_chat_sends_an_environment_key_only_to_atoma_base_url(
    monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer
) -> None:
    use_chat_shape(True)  # the suite's conftest sets it back after the test
    monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # never read, whatever the URL
    fault_server.always(completion_reply())
    hi = [ChatMessage(role="user", content="hi")]

    _llama_chat(fault_server.url).chat(hi)  # an explicit URL that ATOMA_BASE_URL does not name
    await _llama_chat(fault_server.url).achat(hi)
    monkeypatch.setenv("ATOMA_BASE_URL", fault_server.url + "/")
    chat = AtomaChat(model="fault-model", max_tokens=8, context_window=2048)
    chat.chat(hi)
    await chat.achat(hi)

    assert _authorization(fault_server) == [None, None, f"Bearer {ENV_KEY}", f"Bearer {ENV_KEY}"]


def test_atoma_base_url_elsewhere_does_not_license_this_base_url(
    monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer
) -> None:
    with FaultServer() as other:
        monkeypatch.setenv("ATOMA_API_KEY", ENV_KEY)
        monkeypatch.setenv("ATOMA_BASE_URL", other.url)
        fault_server.always(completion_reply())
        # Same host, other port; and the same server under another host name.
        for url in (fault_server.url, fault_server.url.replace("127.0.0.1", "localhost")):
            with AtomaClient(base_url=url) as client:
                client.completions.create(**PARAMS)
        assert other.requests == []
    assert _authorization(fault_server) == [None, None]


def test_an_explicit_key_goes_where_the_caller_points(fault_server: FaultServer) -> None:
    fault_server.always(completion_reply())
    with AtomaClient(KEY, base_url=fault_server.url) as client:
        client.completions.create(**PARAMS)
    assert _authorization(fault_server) == [f"Bearer {KEY}"]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_so_the_key_stays_put(
    fault_server: FaultServer, status: int
) -> None:
    with FaultServer() as elsewhere:
        elsewhere.always(completion_reply())
        fault_server.always(
            Reply(status, b"", headers={"Location": f"{elsewhere.url}/completions"})
        )
        with (
            AtomaClient(KEY, base_url=fault_server.url, max_retries=0) as client,
            pytest.raises(APIStatusError) as error,
        ):
            client.completions.create(**PARAMS)
        assert elsewhere.requests == []
    assert error.value.status_code == status

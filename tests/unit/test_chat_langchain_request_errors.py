"""ChatAtoma (and AtomaLLM): a request of the wrong shape is a LangChain-typed error, before
any request.

A message, tool or parameter the chat completions schema refuses raises LangChain's
``ModelInvalidRequestError`` (also a ``ValueError``), so ``with_retry``, fallbacks and agent
middleware treat it as the caller's mistake rather than an unknown failure. It names what is
wrong; the pydantic ``ValidationError`` with every detail is its cause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import ChatMessage, HumanMessage
from pydantic import ValidationError

from atoma_integrations.langchain import ChatAtoma
from tests.support.mock_server import MockServer

BASE_URL = "http://testserver/v1"
TOOL_WITH_BAD_PARAMETERS = {
    "type": "function",
    "function": {"name": "lookup", "parameters": "not a schema"},
}


@pytest.fixture
def server() -> Iterator[MockServer]:
    mock = MockServer()
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(f"{BASE_URL}/chat/completions").mock(side_effect=mock.handle)
        yield mock


def make_chat() -> ChatAtoma:
    return ChatAtoma(model="m", base_url=BASE_URL, api_key="x", max_retries=0)


def _invoke(chat: Any, messages: Any, **kwargs: Any) -> None:
    chat.invoke(messages, **kwargs)


def _stream(chat: Any, messages: Any, **kwargs: Any) -> None:
    list(chat.stream(messages, **kwargs))


def _ainvoke(chat: Any, messages: Any, **kwargs: Any) -> None:
    asyncio.run(chat.ainvoke(messages, **kwargs))


def _astream(chat: Any, messages: Any, **kwargs: Any) -> None:
    async def drain() -> None:
        async for _ in chat.astream(messages, **kwargs):
            pass

    asyncio.run(drain())


CALLS: dict[str, Callable[..., None]] = {
    "invoke": _invoke,
    "stream": _stream,
    "ainvoke": _ainvoke,
    "astream": _astream,
}

BAD_REQUESTS: dict[str, tuple[Callable[[ChatAtoma], Any], Any, dict[str, Any], str]] = {
    # name: (the model to call, the messages, per-call arguments, what the error names)
    "a role the API has not": (
        lambda chat: chat,
        [ChatMessage(role="robot", content="beep")],
        {},
        "robot",
    ),
    "an image URL that is not a string": (
        lambda chat: chat,
        [HumanMessage(content=[{"type": "image_url", "image_url": {"url": 5}}])],
        {},
        "messages.0",
    ),
    "a tool whose parameters are not a schema": (
        lambda chat: chat.bind_tools([TOOL_WITH_BAD_PARAMETERS]),
        "hi",
        {},
        "tools.0.function.parameters",
    ),
    "a tool choice of no known shape": (
        lambda chat: chat,
        "hi",
        {"tool_choice": {"type": "function"}},
        "tool_choice",
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_a_request_of_the_wrong_shape_is_a_typed_error_before_any_request(
    server: MockServer, case: str, call: str
) -> None:
    runnable, messages, kwargs, named = BAD_REQUESTS[case]
    with pytest.raises(ModelInvalidRequestError) as info:
        CALLS[call](runnable(make_chat()), messages, **kwargs)
    error = info.value
    assert isinstance(error, ValueError)
    assert not isinstance(error, ValidationError)
    assert named in str(error)
    assert isinstance(error.__cause__, ValidationError)  # every detail, for whoever needs it
    assert server.requests == []


def test_a_text_block_without_its_text_is_named(server: MockServer) -> None:
    message = HumanMessage(content=[{"type": "text", "text": "Look:"}, {"type": "text"}])
    with pytest.raises(ModelInvalidRequestError, match=r"message 0 \(human\).*'text' block"):
        make_chat().invoke([message])
    assert server.requests == []


def test_the_completion_llm_follows_the_same_rule() -> None:
    from atoma_integrations.langchain import AtomaLLM

    llm = AtomaLLM(model="m", base_url=BASE_URL, api_key="x", max_retries=0)
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.post(f"{BASE_URL}/completions")
        with pytest.raises(ModelInvalidRequestError, match="logit_bias") as info:
            llm.invoke("hi", logit_bias="not a mapping")
    assert isinstance(info.value.__cause__, ValidationError)
    assert not route.called

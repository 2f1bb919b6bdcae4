"""An unknown constructor argument is an error naming it, in all six adapters.

A misspelt ``temprature=0.3`` must not run at the default temperature; the framework's own
arguments (LangChain's ``callbacks``, ``rate_limiter``, ...; LlamaIndex's
``callback_manager``, ...) are not unknown, and LangChain's ``rate_limiter`` must then work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx
from langchain_core.caches import InMemoryCache
from langchain_core.callbacks import StdOutCallbackHandler
from langchain_core.rate_limiters import BaseRateLimiter
from llama_index.core.callbacks import CallbackManager
from pydantic import ValidationError

from atoma_integrations._arguments import unknown_arguments_message
from atoma_integrations.langchain import AtomaEmbeddings, AtomaLLM, ChatAtoma
from atoma_integrations.llama_index import Atoma, AtomaChat, AtomaEmbedding
from tests.support.mock_server import MockServer, chat_completion, json_reply

URL = "http://testserver/v1"

ADAPTERS: dict[str, Callable[..., Any]] = {
    "AtomaLLM": lambda **kw: AtomaLLM(model="m", base_url=URL, **kw),
    "ChatAtoma": lambda **kw: ChatAtoma(model="m", base_url=URL, **kw),
    "AtomaEmbeddings": lambda **kw: AtomaEmbeddings(model="e", base_url=URL, **kw),
    "Atoma": lambda **kw: Atoma(model="m", base_url=URL, context_window=64, **kw),
    "AtomaChat": lambda **kw: AtomaChat(model="m", base_url=URL, context_window=64, **kw),
    "AtomaEmbedding": lambda **kw: AtomaEmbedding(model_name="e", base_url=URL, **kw),
}

# Each adapter's misspelling of one of its own arguments, and the name meant.
TYPOS = {
    "AtomaLLM": ("temprature", "temperature"),
    "ChatAtoma": ("max_token", "max_tokens"),
    "AtomaEmbeddings": ("chunksize", "chunk_size"),
    "Atoma": ("tempreature", "temperature"),
    "AtomaChat": ("top_pp", "top_p"),
    "AtomaEmbedding": ("embed_batchsize", "embed_batch_size"),
}
EXTRAS_FIELD = {
    "AtomaLLM": "model_kwargs",
    "ChatAtoma": "model_kwargs",
    "AtomaEmbeddings": "model_kwargs",
    "Atoma": "additional_kwargs",
    "AtomaChat": "additional_kwargs",
    "AtomaEmbedding": None,
}


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_a_misspelt_argument_is_an_error_naming_it_and_the_name_meant(name: str) -> None:
    typo, meant = TYPOS[name]
    with pytest.raises(ValidationError) as raised:
        ADAPTERS[name](**{typo: 1})

    message = str(raised.value)
    assert f"{name} got an unknown argument: {typo!r} (did you mean {meant!r}?)" in message
    extras = EXTRAS_FIELD[name]
    if extras is not None:
        assert f"send backend-specific body fields in {extras}={{...}}" in message


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_an_argument_like_no_known_name_is_named_without_a_guess(name: str) -> None:
    with pytest.raises(ValidationError, match=f"{name} got an unknown argument: 'zzzz'") as raised:
        ADAPTERS[name](zzzz=1)
    assert "did you mean" not in str(raised.value)


def test_every_unknown_argument_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as raised:
        ChatAtoma(model="m", base_url=URL, temprature=0.3, max_token=5)
    assert (
        "ChatAtoma got unknown arguments: 'temprature' (did you mean 'temperature'?), "
        "'max_token' (did you mean 'max_tokens'?)"
    ) in str(raised.value)


def test_the_message_has_one_shape() -> None:
    assert unknown_arguments_message("X", ["colour"], ["color", "size"], None) == (
        "X got an unknown argument: 'colour' (did you mean 'color'?)"
    )


@pytest.mark.parametrize("name", ["AtomaLLM", "ChatAtoma"])
def test_langchain_s_own_arguments_are_accepted(name: str) -> None:
    handler = StdOutCallbackHandler()
    llm = ADAPTERS[name](
        callbacks=[handler],
        tags=["t"],
        metadata={"k": "v"},
        cache=InMemoryCache(),
        verbose=False,
    )
    assert llm.callbacks == [handler]
    assert llm.tags == ["t"]


def test_chat_model_arguments_of_langchain_are_accepted() -> None:
    llm = ChatAtoma(model="m", base_url=URL, disable_streaming=True, output_version="v1")
    assert llm.disable_streaming is True
    assert llm.output_version == "v1"


def test_llama_index_s_own_arguments_are_accepted() -> None:
    manager = CallbackManager([])
    assert Atoma(model="m", base_url=URL, system_prompt="Be brief.").system_prompt == "Be brief."
    assert AtomaChat(model="m", base_url=URL, callback_manager=manager).callback_manager is manager
    assert AtomaEmbedding(model_name="e", base_url=URL, num_workers=2).num_workers == 2


def test_a_completion_model_refuses_rate_limiter_which_langchain_gives_chat_models_only() -> None:
    # BaseLLM has no rate_limiter: accepting it would limit nothing.
    with pytest.raises(ValidationError, match="AtomaLLM got an unknown argument: 'rate_limiter'"):
        AtomaLLM(model="m", base_url=URL, rate_limiter=_CountingLimiter())


class _CountingLimiter(BaseRateLimiter):
    """A rate limiter that lets every request through and counts them."""

    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self, *, blocking: bool = True) -> bool:
        self.acquired += 1
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        self.acquired += 1
        return True


@pytest.fixture
def chat_server() -> Iterator[MockServer]:
    mock = MockServer([json_reply(200, chat_completion("Hi"))])
    with respx.mock(using="httpx", assert_all_called=False) as router:
        router.post(url__regex=re.escape(URL) + "/chat/completions$").mock(side_effect=mock.handle)
        yield mock


def test_chat_atoma_honours_langchain_s_rate_limiter(chat_server: MockServer) -> None:
    limiter = _CountingLimiter()
    llm = ChatAtoma(model="m", base_url=URL, max_retries=0, rate_limiter=limiter)
    for _ in range(3):
        assert llm.invoke("hi").content == "Hi"
    assert limiter.acquired == 3
    assert len(chat_server.requests) == 3

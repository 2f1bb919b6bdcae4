"""Model profiles and token counts: what frameworks learn about a model before any request.

LangChain reads ``ChatAtoma.profile`` (create_agent's structured-output strategy, the
summarization middleware's window), LlamaIndex reads ``metadata`` (context window, whether
agents may call tools). Both come from the package's static table of the models Atoma
documents, never from a guess and never from a request made while the object is built.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
import respx
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from atoma_integrations import _registry
from atoma_integrations._profiles import chat_model_profile
from atoma_integrations.langchain import ChatAtoma
from atoma_integrations.llama_index import DEFAULT_CONTEXT_WINDOW, Atoma, AtomaChat
from tests.support.mock_server import json_reply

BASE_URL = "http://testserver/v1"
DOCUMENTED = (
    "meta-llama/Llama-3.3-70B-Instruct",
    "Infermatic/Llama-3.3-70B-Instruct-FP8-Dynamic",
    "meta-llama/Llama-3.2-1B-Instruct",
    "meta-llama/Llama-3.2-3B-Instruct",
    "gpt-oss-120b",
)


@pytest.fixture(autouse=True)
def _fresh_context_cache() -> Iterator[None]:
    """Each test starts with no server list read (the cache is per process)."""
    _registry.clear()
    yield
    _registry.clear()


@pytest.fixture
def no_requests() -> Iterator[respx.Route]:
    """A route catching every request: tests assert it was never called."""
    with respx.mock(using="httpx", assert_all_called=False) as router:
        yield router.route()


# -- the table ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", DOCUMENTED)
def test_every_documented_model_has_a_profile_without_native_structured_output(
    model: str,
) -> None:
    profile = chat_model_profile(model)
    assert profile is not None
    assert profile.max_input_tokens == 131_072
    assert profile.tool_calling is True
    # vLLM drops tool calls when a json_schema comes with tools: agents must use a tool.
    assert profile.structured_output is False


def test_only_gpt_oss_reasons_and_no_documented_model_reads_images() -> None:
    reasoning = {m for m in DOCUMENTED if chat_model_profile(m).reasoning_output}  # type: ignore[union-attr]
    assert reasoning == {"gpt-oss-120b"}
    assert not any(chat_model_profile(m).image_inputs for m in DOCUMENTED)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "model", ["tiny-llama", "meta-llama/llama-3.3-70b-instruct", "Llama-3.3-70B-Instruct", ""]
)
def test_an_undocumented_id_gets_no_guess(model: str) -> None:
    # Atoma's proxy matches ids case-sensitively: a lower-cased id is not that model there.
    assert chat_model_profile(model) is None


# -- LangChain: profile -----------------------------------------------------------------------


def test_chat_atoma_profile_comes_from_the_table_without_a_request(
    no_requests: respx.Route,
) -> None:
    chat = ChatAtoma(model="gpt-oss-120b", api_key="x", base_url=BASE_URL)
    assert chat.profile == {
        "max_input_tokens": 131_072,
        "text_inputs": True,
        "image_inputs": False,
        "text_outputs": True,
        "tool_calling": True,
        "structured_output": False,
        "reasoning_output": True,
        "reasoning_effort_levels": ["low", "medium", "high"],
    }
    llama = ChatAtoma(model="meta-llama/Llama-3.3-70B-Instruct", api_key="x")
    assert llama.profile is not None
    assert (llama.profile["reasoning_output"], "reasoning_effort_levels" in llama.profile) == (
        False,
        False,
    )
    assert not no_requests.called


def test_chat_atoma_profile_is_none_for_an_unknown_model() -> None:
    assert ChatAtoma(model="tiny-llama", api_key="x").profile is None


def test_profile_argument_overrides_the_table() -> None:
    chat = ChatAtoma(model="gpt-oss-120b", api_key="x", profile={"max_input_tokens": 4096})
    assert chat.profile == {"max_input_tokens": 4096}
    own = ChatAtoma(model="my-deployment", api_key="x", profile={"tool_calling": True})
    assert own.profile == {"tool_calling": True}


def test_each_model_gets_its_own_profile_copy() -> None:
    first = ChatAtoma(model="gpt-oss-120b", api_key="x")
    second = ChatAtoma(model="gpt-oss-120b", api_key="x")
    assert first.profile is not None and second.profile is not None
    first.profile["max_input_tokens"] = 1
    assert second.profile["max_input_tokens"] == 131_072


# -- LangChain: token counts ------------------------------------------------------------------


def test_token_count_of_messages_and_tools_is_approximate_and_grows_with_them() -> None:
    @tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return "sunny"

    chat = ChatAtoma(model="gpt-oss-120b", api_key="x")
    short = [HumanMessage("hello world")]
    history = [
        SystemMessage("You are terse."),
        HumanMessage("Weather in Paris?"),
        AIMessage("", tool_calls=[{"id": "c1", "name": "get_weather", "args": {"city": "Paris"}}]),
        ToolMessage("sunny", tool_call_id="c1"),
    ]
    assert 0 < chat.get_num_tokens_from_messages(short) < chat.get_num_tokens_from_messages(history)
    with_tools = chat.get_num_tokens_from_messages(history, tools=[get_weather])
    assert with_tools > chat.get_num_tokens_from_messages(history)


def test_token_count_of_a_text_is_the_messages_count_without_the_message() -> None:
    chat = ChatAtoma(model="gpt-oss-120b", api_key="x")
    text = "The quick brown fox jumps over the lazy dog."  # 44 characters
    assert chat.get_num_tokens(text) == 11
    assert chat.get_num_tokens("") == 0
    # The message adds its role and overhead to the same count of its text.
    assert chat.get_num_tokens_from_messages([HumanMessage(text)]) > chat.get_num_tokens(text)


def test_a_custom_tokenizer_counts_a_text_when_given() -> None:
    chat = ChatAtoma(model="gpt-oss-120b", api_key="x", custom_get_token_ids=lambda t: [0] * len(t))
    assert chat.get_num_tokens("hello") == 5


def test_token_counts_need_no_transformers() -> None:
    # A fresh interpreter where importing transformers fails, as on a machine without it.
    code = textwrap.dedent(
        """
        import sys
        sys.modules["transformers"] = None
        from langchain_core.messages import HumanMessage
        from atoma_integrations.langchain import ChatAtoma
        chat = ChatAtoma(model="gpt-oss-120b", api_key="x")
        print(chat.get_num_tokens_from_messages([HumanMessage("hello world")]))
        print(chat.get_num_tokens("hello world"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    from_messages, from_text = (int(line) for line in result.stdout.split())
    assert from_messages > from_text == 3


# -- LlamaIndex: metadata ---------------------------------------------------------------------


def _local_server_without_a_list(router: respx.MockRouter) -> respx.Route:
    return router.get(f"{BASE_URL}/open_router/models").mock(
        return_value=json_reply(404, {"error": "not found"})
    )


@pytest.mark.parametrize("llm_class", [AtomaChat, Atoma])
def test_llama_index_window_comes_from_the_table_when_the_server_lists_none(
    llm_class: type[AtomaChat] | type[Atoma], caplog: pytest.LogCaptureFixture
) -> None:
    with respx.mock(using="httpx") as router:
        _local_server_without_a_list(router)
        llm = llm_class(model="gpt-oss-120b", base_url=BASE_URL, max_retries=0)
        with caplog.at_level(logging.WARNING, logger="atoma_integrations.llama_index"):
            assert llm.metadata.context_window == 131_072
    assert not caplog.records  # a documented window is no assumption: nothing to warn of


def test_llama_index_server_list_wins_over_the_table() -> None:
    listed = {"data": [{"id": "gpt-oss-120b", "context_length": 65_536}]}
    with respx.mock(using="httpx") as router:
        router.get(f"{BASE_URL}/open_router/models").mock(return_value=json_reply(200, listed))
        llm = AtomaChat(model="gpt-oss-120b", base_url=BASE_URL, max_retries=0)
        assert llm.metadata.context_window == 65_536


def test_llama_index_unknown_model_still_gets_the_default() -> None:
    with respx.mock(using="httpx") as router:
        _local_server_without_a_list(router)
        llm = AtomaChat(model="tiny-llama", base_url=BASE_URL, max_retries=0)
        assert llm.metadata.context_window == DEFAULT_CONTEXT_WINDOW
        assert llm.metadata.is_function_calling_model is True


def test_llama_index_payload_knows_a_documented_window_without_a_request(
    no_requests: respx.Route,
) -> None:
    payload = AtomaChat(model="meta-llama/Llama-3.3-70B-Instruct", base_url=BASE_URL).to_payload()
    assert (payload["context_window"], payload["is_function_calling_model"]) == (131_072, True)
    assert not no_requests.called

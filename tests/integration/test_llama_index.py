"""Atoma (LlamaIndex) against the real llama.cpp server: index, query engine, completions.

The tiny model is deterministic at temperature 0 and never stops early, so every
completion is exactly ``max_tokens`` tokens and streamed text equals the whole text.
Its context is 2048 tokens: the documents are short and ``context_window`` is set.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_index.core import Document, Settings, SummaryIndex
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.llms import ChatMessage

from atoma_integrations.llama_index import DEFAULT_CONTEXT_WINDOW, Atoma

PROMPT = "Once upon a time"
MAX_TOKENS = 12
DOCUMENTS = [
    "The sky over Lisbon is blue in summer.",
    "Atoma serves open models behind an OpenAI-style API.",
    "Streamed tokens arrive one by one.",
]


@pytest.fixture
def llm(server_base_url: str, server_model: str) -> Atoma:
    return Atoma(
        model=server_model,
        base_url=server_base_url,
        max_tokens=MAX_TOKENS,
        temperature=0,
        max_retries=0,
        context_window=2048,
    )


@pytest.fixture
def settings_llm(llm: Atoma) -> Iterator[TokenCountingHandler]:
    """Settings.llm = the adapter, with a token counter; Settings restored afterwards."""
    saved = (Settings._llm, Settings._embed_model, Settings._callback_manager)
    counter = TokenCountingHandler()
    Settings.llm = llm
    Settings.callback_manager = CallbackManager([counter])
    try:
        yield counter
    finally:
        Settings._llm, Settings._embed_model, Settings._callback_manager = saved


@pytest.fixture
def index(settings_llm: TokenCountingHandler) -> SummaryIndex:
    return SummaryIndex.from_documents([Document(text=text) for text in DOCUMENTS])


def test_complete_and_stream_complete_agree(llm: Atoma) -> None:
    whole = llm.complete(PROMPT)
    streamed = list(llm.stream_complete(PROMPT))
    assert whole.text
    assert whole.additional_kwargs["completion_tokens"] == MAX_TOKENS
    assert whole.additional_kwargs["finish_reason"] == "length"
    assert "".join(r.delta or "" for r in streamed) == whole.text
    assert streamed[-1].text == whole.text
    assert streamed[-1].additional_kwargs["finish_reason"] == "length"


async def test_acomplete_and_astream_complete_agree(llm: Atoma) -> None:
    whole = await llm.acomplete(PROMPT)
    gen = await llm.astream_complete(PROMPT)
    deltas = [r.delta or "" async for r in gen]
    assert whole.text == llm.complete(PROMPT).text
    assert "".join(deltas) == whole.text


def test_chat_and_stream_chat(llm: Atoma) -> None:
    messages = [ChatMessage(role="user", content="Tell me a story.")]
    reply = llm.chat(messages)
    assert reply.message.role == "assistant"
    assert reply.message.content
    streamed = "".join(r.delta or "" for r in llm.stream_chat(messages))
    assert streamed == reply.message.content


async def test_achat(llm: Atoma) -> None:
    messages = [ChatMessage(role="user", content="Tell me a story.")]
    reply = await llm.achat(messages)
    assert reply.message.content == llm.chat(messages).message.content


def test_summary_index_query(index: SummaryIndex, settings_llm: TokenCountingHandler) -> None:
    response = index.as_query_engine().query("What colour is the sky?")
    assert str(response).strip()
    assert len(response.source_nodes) == len(DOCUMENTS)
    # One LLM call, counted from the server's usage (exactly max_tokens generated).
    assert len(settings_llm.llm_token_counts) == 1
    assert settings_llm.completion_llm_token_count == MAX_TOKENS


def test_summary_index_streaming_query_matches_the_whole_answer(index: SummaryIndex) -> None:
    whole = str(index.as_query_engine().query("What colour is the sky?"))
    streaming = index.as_query_engine(streaming=True).query("What colour is the sky?")
    tokens = list(streaming.response_gen)  # type: ignore[union-attr]
    assert len(tokens) > 1
    assert "".join(tokens) == whole


async def test_summary_index_async_query(index: SummaryIndex) -> None:
    whole = str(index.as_query_engine().query("What colour is the sky?"))
    response = await index.as_query_engine().aquery("What colour is the sky?")
    assert str(response) == whole


def test_a_server_without_a_model_list_gets_the_default_window(
    server_base_url: str, server_model: str
) -> None:
    llm = Atoma(model=server_model, base_url=server_base_url, max_retries=0)
    # llama.cpp answers 404 to /open_router/models.
    assert llm.metadata.context_window == DEFAULT_CONTEXT_WINDOW


def test_the_demo_streams_a_query_and_reports_usage(
    server_base_url: str,
    server_model: str,
    server_embed_model: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = Path(__file__).parents[2] / "examples" / "demo_llama_index.py"
    spec = importlib.util.spec_from_file_location("demo_llama_index", path)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    saved = (Settings._llm, Settings._embed_model)
    demo.run(server_base_url, server_model, server_embed_model)
    out = capsys.readouterr().out
    assert "A: " in out
    assert "VectorStoreIndex over 3 documents (Atoma embeddings)" in out
    # Three documents, then the question; two documents retrieved for the answer.
    assert "[llama-index] 4 texts embedded (the documents, then the question), 2 documents" in out
    assert "[llama-index] 1 LLM call" in out
    assert (Settings._llm, Settings._embed_model) == saved  # the demo restores Settings

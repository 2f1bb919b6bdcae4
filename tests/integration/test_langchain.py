"""AtomaLLM in real LangChain chains, against the real llama.cpp server (tiny model).

The tiny model is deterministic at temperature 0 and never emits EOS, so every answer is
exactly ``max_tokens`` tokens unless a stop string hits; stop strings are taken from a
greedy output first, so they are known to occur.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.exceptions import ContextOverflowError
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import LLMResult
from langchain_core.prompts import PromptTemplate
from langchain_core.runnables import Runnable

from atoma_integrations import AtomaClient, ContextLengthExceededError
from atoma_integrations.langchain import AtomaLLM

MAX_TOKENS = 16
TEMPLATE = PromptTemplate.from_template("Once upon a {thing}")
INPUTS = [{"thing": "time"}, {"thing": "hill"}, {"thing": "star"}]


class TokenRecorder(BaseCallbackHandler):
    """Collects every token LangChain reports, and the results of finished runs."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.results: list[LLMResult] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.results.append(response)


class AsyncTokenRecorder(AsyncCallbackHandler):
    """The async handler twin."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        self.tokens.append(token)


@pytest.fixture
def llm(server_base_url: str, server_model: str) -> AtomaLLM:
    return AtomaLLM(
        model=server_model,
        base_url=server_base_url,
        max_tokens=MAX_TOKENS,
        temperature=0,
        max_retries=0,
    )


@pytest.fixture
def chain(llm: AtomaLLM) -> Runnable[dict[str, str], str]:
    return TEMPLATE | llm | StrOutputParser()


def greedy(client: AtomaClient, model: str, prompt: str, max_tokens: int = MAX_TOKENS) -> str:
    result = client.completions.create(
        model=model, prompt=prompt, max_tokens=max_tokens, temperature=0
    )
    return result.choices[0].text


def test_chain_invoke_gives_the_greedy_completion(
    chain: Runnable[dict[str, str], str], client: AtomaClient, server_model: str
) -> None:
    expected = greedy(client, server_model, "Once upon a time")
    assert expected
    assert chain.invoke({"thing": "time"}) == expected


def test_chain_stream_delivers_the_same_text_in_pieces(
    chain: Runnable[dict[str, str], str],
) -> None:
    pieces = list(chain.stream({"thing": "time"}))
    assert len([p for p in pieces if p]) > 1
    assert "".join(pieces) == chain.invoke({"thing": "time"})


def test_chain_batch_answers_each_input_in_order(
    chain: Runnable[dict[str, str], str],
) -> None:
    answers = chain.batch(INPUTS)
    assert answers == [chain.invoke(i) for i in INPUTS]
    assert len(set(answers)) > 1  # the prompts really differ


async def test_chain_async_forms_agree_with_sync(chain: Runnable[dict[str, str], str]) -> None:
    expected = chain.invoke({"thing": "time"})
    assert await chain.ainvoke({"thing": "time"}) == expected
    pieces = [p async for p in chain.astream({"thing": "time"})]
    assert len([p for p in pieces if p]) > 1 and "".join(pieces) == expected
    assert await chain.abatch(INPUTS) == chain.batch(INPUTS)


def test_callback_handler_sees_every_token_of_a_streamed_chain(
    chain: Runnable[dict[str, str], str],
) -> None:
    recorder = TokenRecorder()
    streamed = "".join(chain.stream({"thing": "time"}, config={"callbacks": [recorder]}))
    assert len(recorder.tokens) > 1
    assert "".join(recorder.tokens) == streamed


def test_streaming_true_invoke_feeds_callbacks_and_returns_the_full_text(
    llm: AtomaLLM,
) -> None:
    expected = llm.invoke("Once upon a time")
    streaming = llm.model_copy(update={"streaming": True})
    recorder = TokenRecorder()
    chain = TEMPLATE | streaming | StrOutputParser()
    assert chain.invoke({"thing": "time"}, config={"callbacks": [recorder]}) == expected
    assert len(recorder.tokens) > 1 and "".join(recorder.tokens) == expected
    (result,) = recorder.results
    assert result.generations[0][0].generation_info == {"finish_reason": "length"}
    # llama.cpp reports no usage in streams (Atoma does): the model name is still there.
    assert result.llm_output is not None and result.llm_output["model_name"]


async def test_streaming_true_ainvoke_feeds_async_callbacks(llm: AtomaLLM) -> None:
    expected = await llm.ainvoke("Once upon a time")
    streaming = llm.model_copy(update={"streaming": True})
    recorder = AsyncTokenRecorder()
    text = await streaming.ainvoke("Once upon a time", config={"callbacks": [recorder]})
    assert text == expected
    assert "".join(recorder.tokens) == expected


def test_stop_sequences_cut_the_output_sync_async_and_streamed(
    llm: AtomaLLM, client: AtomaClient, server_model: str
) -> None:
    full = greedy(client, server_model, "Once upon a time")
    stop = full[6:9]  # a piece from the middle of the known output
    expected = full[: full.index(stop)]
    assert llm.invoke("Once upon a time", stop=[stop]) == expected
    assert "".join(llm.stream("Once upon a time", stop=[stop])) == expected
    result = llm.generate(["Once upon a time"], stop=[stop])
    generation = result.generations[0][0]
    assert generation.text == expected
    assert generation.generation_info == {"finish_reason": "stop"}
    # A stop given at construction applies by default; one given at call time replaces it.
    with_default = llm.model_copy(update={"stop": [stop]})
    assert with_default.invoke("Once upon a time") == expected
    assert with_default.invoke("Once upon a time", stop=["\x01"]) == full


async def test_async_stop_sequences(llm: AtomaLLM, client: AtomaClient, server_model: str) -> None:
    full = greedy(client, server_model, "Once upon a time")
    stop = full[6:9]
    expected = full[: full.index(stop)]
    assert await llm.ainvoke("Once upon a time", stop=[stop]) == expected
    assert "".join([t async for t in llm.astream("Once upon a time", stop=[stop])]) == expected


def test_usage_is_summed_over_the_prompts_of_a_call(llm: AtomaLLM, client: AtomaClient) -> None:
    prompts = ["Once upon a time", "Hello"]
    single = [client.completions.create(model=llm.model, prompt=p, max_tokens=1) for p in prompts]
    prompt_tokens = sum(r.usage.prompt_tokens for r in single if r.usage)
    result = llm.generate(prompts)
    assert result.llm_output == {
        "token_usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 2 * MAX_TOKENS,
            "total_tokens": prompt_tokens + 2 * MAX_TOKENS,
        },
        "model_name": llm.model,
    }


def test_logprobs_reach_generation_info(llm: AtomaLLM) -> None:
    result = llm.generate(["Once upon a time"], logprobs=2)
    info = result.generations[0][0].generation_info
    assert info is not None
    assert len(info["logprobs"]["tokens"]) == MAX_TOKENS
    chunks = list(llm._stream("Once upon a time", logprobs=2))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.generation_info is not None
    assert merged.generation_info["logprobs"]["tokens"] == info["logprobs"]["tokens"]


def test_context_overflow_is_a_typed_error(llm: AtomaLLM) -> None:
    with pytest.raises(ContextLengthExceededError) as info:
        llm.invoke("word " * 3000)
    assert isinstance(info.value, ContextOverflowError)
    assert info.value.status_code == 400


def invoke_in_worker(llm: AtomaLLM, prompt: str) -> str:
    """Runs in a worker process: the LLM arrives there pickled."""
    return llm.invoke(prompt)


def test_llm_and_its_errors_cross_a_process_pool(llm: AtomaLLM) -> None:
    expected = llm.invoke("Once upon a time")
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as on macOS/Windows
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(invoke_in_worker, llm, "Once upon a time").result() == expected
        failure = pool.submit(invoke_in_worker, llm, "word " * 3000)
        with pytest.raises(ContextLengthExceededError) as info:
            failure.result()
    assert isinstance(info.value, ContextOverflowError) and info.value.status_code == 400


def test_breaking_out_of_a_stream_leaves_the_server_usable(llm: AtomaLLM) -> None:
    long = llm.model_copy(update={"max_tokens": 512})
    for _ in long.stream("Once upon a time"):
        break
    assert llm.invoke("Once upon a time")


def test_demo_streams_the_chain_answer_to_the_terminal(
    server_base_url: str, server_model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from examples.demo_langchain import run

    run(server_base_url, server_model)
    out = capsys.readouterr().out
    header, body = out.split("\n\n", 1)
    assert "AtomaLLM" in header
    streamed, summary = body.split("\n\n[langchain] ", 1)
    assert len(streamed) > 10
    assert summary.startswith(f"{len(streamed)} characters in ")


async def test_astream_events_reports_each_token_as_an_llm_stream_event(
    chain: Runnable[dict[str, str], str],
) -> None:
    tokens = [
        event["data"]["chunk"].text
        async for event in chain.astream_events({"thing": "time"}, version="v2")
        if event["event"] == "on_llm_stream"
    ]
    assert len(tokens) > 1
    assert "".join(tokens) == await chain.ainvoke({"thing": "time"})

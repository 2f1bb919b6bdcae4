"""Integration checks every LangChain text-completion LLM should pass, on a real server.

Mirrors ``langchain_tests.integration_tests.ChatModelIntegrationTests`` for a ``BaseLLM``:
invoke / stream / batch and their async forms, stop sequences, usage, tracing parameters.
Subclasses provide an ``llm_params`` fixture for a deterministic (temperature 0) model.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.llms import BaseLLM
from langchain_core.outputs import GenerationChunk, LLMResult

PROMPT = "Once upon a time"


class _StartRecorder(BaseCallbackHandler):
    """Keeps the metadata LangChain attaches to each LLM run (what LangSmith receives)."""

    def __init__(self) -> None:
        self.metadata: list[dict[str, Any]] = []

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> None:
        self.metadata.append(kwargs.get("metadata") or {})


class LLMIntegrationTests:
    """Subclass as ``Test...``, with ``llm_class`` and an ``llm_params`` fixture."""

    @property
    def llm_class(self) -> type[BaseLLM]:
        """Required: the class under test."""
        raise NotImplementedError

    @property
    def supports_stream_usage(self) -> bool:
        """Whether the server reports token usage in streams."""
        return True

    @pytest.fixture
    def llm_params(self) -> dict[str, Any]:
        """Required: constructor arguments for a deterministic model (temperature 0)."""
        raise NotImplementedError

    @pytest.fixture
    def llm(self, llm_params: dict[str, Any]) -> BaseLLM:
        return self.llm_class(**llm_params)

    def test_invoke(self, llm: BaseLLM) -> None:
        result = llm.invoke(PROMPT)
        assert isinstance(result, str) and result

    async def test_ainvoke(self, llm: BaseLLM) -> None:
        result = await llm.ainvoke(PROMPT)
        assert isinstance(result, str) and result

    def test_invoke_accepts_messages(self, llm: BaseLLM) -> None:
        assert llm.invoke([("human", PROMPT)])

    def test_stream(self, llm: BaseLLM) -> None:
        chunks = list(llm.stream(PROMPT))
        assert chunks and all(isinstance(c, str) for c in chunks)
        assert "".join(chunks) == llm.invoke(PROMPT)

    async def test_astream(self, llm: BaseLLM) -> None:
        chunks = [c async for c in llm.astream(PROMPT)]
        assert chunks and all(isinstance(c, str) for c in chunks)
        assert "".join(chunks) == await llm.ainvoke(PROMPT)

    def test_batch(self, llm: BaseLLM) -> None:
        results = llm.batch([PROMPT, "Hello"])
        assert len(results) == 2 and all(isinstance(r, str) and r for r in results)
        assert llm.batch([PROMPT, "Hello"], config={"max_concurrency": 1}) == results

    async def test_abatch(self, llm: BaseLLM) -> None:
        results = await llm.abatch([PROMPT, "Hello"])
        assert len(results) == 2 and all(isinstance(r, str) and r for r in results)

    def test_generate_gives_one_list_per_prompt(self, llm: BaseLLM) -> None:
        result = llm.generate([PROMPT, "Hello"])
        assert isinstance(result, LLMResult)
        assert [len(g) for g in result.generations] == [1, 1]
        assert len(result.run or []) == 2

    def _stop_case(self, llm: BaseLLM) -> tuple[str, str]:
        full = llm.invoke(PROMPT)
        if len(full) < 8:
            pytest.skip("the model's answer is too short to take a stop string from")
        stop = full[len(full) // 2 : len(full) // 2 + 3]
        return stop, full[: full.index(stop)]

    def test_stop_sequence(self, llm: BaseLLM, llm_params: dict[str, Any]) -> None:
        stop, expected = self._stop_case(llm)
        assert llm.invoke(PROMPT, stop=[stop]) == expected
        assert self.llm_class(**{**llm_params, "stop": [stop]}).invoke(PROMPT) == expected

    async def test_astop_sequence(self, llm: BaseLLM) -> None:
        stop, expected = self._stop_case(llm)
        assert await llm.ainvoke(PROMPT, stop=[stop]) == expected

    def test_usage_metadata(self, llm: BaseLLM) -> None:
        result = llm.generate([PROMPT])
        assert result.llm_output is not None
        usage = result.llm_output["token_usage"]
        assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
        assert usage["prompt_tokens"] + usage["completion_tokens"] == usage["total_tokens"]
        assert result.llm_output["model_name"]

    def test_usage_metadata_streaming(self, llm: BaseLLM) -> None:
        chunks: list[GenerationChunk] = list(llm._stream(PROMPT))
        assert chunks
        *body, final = chunks
        info = final.generation_info or {}
        assert info.get("finish_reason")  # the final chunk says why the stream ended
        assert all("finish_reason" not in (c.generation_info or {}) for c in body)
        if not self.supports_stream_usage:
            pytest.skip("this server sends no usage in streams")
        usage = info["token_usage"]
        assert usage["prompt_tokens"] + usage["completion_tokens"] == usage["total_tokens"]

    def test_tracing_params(self, llm: BaseLLM) -> None:
        recorder = _StartRecorder()
        llm.invoke(PROMPT, config={"callbacks": [recorder]}, stop=["\x01"])
        (metadata,) = recorder.metadata
        assert metadata["ls_model_type"] == "llm"
        assert metadata["ls_provider"] == llm._get_ls_params()["ls_provider"]
        assert metadata["ls_model_name"] == llm._get_ls_params()["ls_model_name"]
        assert metadata["ls_stop"] == ["\x01"]

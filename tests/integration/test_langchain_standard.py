"""AtomaLLM through the standard integration suite, on the real llama.cpp server."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.llms import BaseLLM

from atoma_integrations.langchain import AtomaLLM
from tests.langchain_standard import LLMIntegrationTests


class TestAtomaLLMStandardIntegration(LLMIntegrationTests):
    @property
    def llm_class(self) -> type[BaseLLM]:
        return AtomaLLM

    @property
    def supports_stream_usage(self) -> bool:
        return False  # llama-cpp-python sends none; Atoma always does (unit-tested)

    @pytest.fixture
    def llm_params(self, server_base_url: str, server_model: str) -> dict[str, Any]:
        return {
            "model": server_model,
            "base_url": server_base_url,
            "temperature": 0,
            "max_tokens": 16,
            "max_retries": 0,
        }


def test_init_from_env_reaches_the_server(
    monkeypatch: pytest.MonkeyPatch, server_base_url: str, server_model: str
) -> None:
    monkeypatch.setenv("ATOMA_BASE_URL", server_base_url)
    assert AtomaLLM(model=server_model, max_tokens=4).invoke("Hello")

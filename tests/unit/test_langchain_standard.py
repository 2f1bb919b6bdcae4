"""AtomaLLM through the standard unit suite for LangChain text-completion LLMs."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.llms import BaseLLM

from atoma_integrations.langchain import AtomaLLM
from tests.langchain_standard import LLMUnitTests

KEY = "sk-atoma-standard-test-key"


class TestAtomaLLMStandardUnit(LLMUnitTests):
    @property
    def llm_class(self) -> type[BaseLLM]:
        return AtomaLLM

    @property
    def llm_params(self) -> dict[str, Any]:
        return {"model": "meta-llama/Llama-3.3-70B-Instruct", "api_key": KEY}

    @property
    def secret(self) -> str:
        return KEY

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any]]:
        return {"ATOMA_API_KEY": "sk-from-env"}, {"model": "meta-llama/Llama-3.3-70B-Instruct"}

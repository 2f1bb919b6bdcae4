"""AtomaEmbeddings through langchain-tests' standard unit suite for embeddings."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import EmbeddingsUnitTests

from atoma_integrations.langchain import AtomaEmbeddings


class TestAtomaEmbeddingsStandardUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[AtomaEmbeddings]:
        return AtomaEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "intfloat/multilingual-e5-large-instruct", "api_key": "sk-standard"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"ATOMA_API_KEY": "sk-from-env", "ATOMA_BASE_URL": "http://localhost:1/v1"},
            {"model": "intfloat/multilingual-e5-large-instruct"},
            {"model": "intfloat/multilingual-e5-large-instruct"},
        )

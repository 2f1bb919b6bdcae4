"""AtomaEmbeddings through langchain-tests' standard integration suite, on the real server."""

from __future__ import annotations

import os
from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from atoma_integrations.langchain import AtomaEmbeddings


class TestAtomaEmbeddingsStandardIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[AtomaEmbeddings]:
        return AtomaEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        # A property, not a fixture, in the standard suite: read the server from the
        # environment the way tests/conftest.py does.
        base_url = os.environ.get("TS_BASE_URL")
        if not base_url:
            pytest.skip("no local server: run the suite with `make test`")
        return {
            "model": os.environ.get("TS_EMBED_MODEL_ID", "tiny-llama-embed"),
            "base_url": base_url,
            "max_retries": 0,
        }

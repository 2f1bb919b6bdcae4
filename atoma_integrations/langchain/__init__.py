"""LangChain integration: Atoma's models as LangChain language models.

``AtomaLLM`` is a ``BaseLLM`` on text completions; ``AtomaEmbeddings`` an ``Embeddings``.
Importing this package imports langchain-core, never llama-index.
"""

from atoma_integrations.langchain.embeddings import AtomaEmbeddings
from atoma_integrations.langchain.llms import AtomaLLM

__all__ = ["AtomaEmbeddings", "AtomaLLM"]

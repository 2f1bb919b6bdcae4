"""LangChain integration: Atoma's models as LangChain language models and embeddings.

``AtomaLLM`` is a ``BaseLLM`` on text completions, ``ChatAtoma`` a ``BaseChatModel`` on
chat completions (tools, structured output), ``AtomaEmbeddings`` an ``Embeddings`` on
``/v1/embeddings``. Importing this package imports langchain-core, never llama-index.
"""

from atoma_integrations.langchain.chat_models import ChatAtoma
from atoma_integrations.langchain.embeddings import AtomaEmbeddings
from atoma_integrations.langchain.llms import AtomaLLM

__all__ = ["AtomaEmbeddings", "AtomaLLM", "ChatAtoma"]

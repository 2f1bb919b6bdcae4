"""LangChain integration: Atoma's models as LangChain language models.

``AtomaLLM`` is a ``BaseLLM`` on text completions, ``ChatAtoma`` a ``BaseChatModel`` on
chat completions (tools, structured output). Importing this package imports
langchain-core, never llama-index.
"""

from atoma_integrations.langchain.chat_models import ChatAtoma
from atoma_integrations.langchain.llms import AtomaLLM

__all__ = ["AtomaLLM", "ChatAtoma"]

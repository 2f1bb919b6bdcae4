"""LlamaIndex integration: Atoma's models as LlamaIndex LLMs.

``Atoma`` is a ``CustomLLM`` on text completions. Importing this package imports
llama-index-core, never langchain.
"""

from atoma_integrations.llama_index._context import DEFAULT_CONTEXT_WINDOW
from atoma_integrations.llama_index.llms import Atoma

__all__ = ["DEFAULT_CONTEXT_WINDOW", "Atoma"]

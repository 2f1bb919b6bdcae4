"""LlamaIndex integration: Atoma's models as LlamaIndex LLMs.

``Atoma`` is a ``CustomLLM`` on text completions; ``AtomaChat`` a ``FunctionCallingLLM`` on
chat completions (tools, structured output, agents). Importing this package imports
llama-index-core, never langchain.
"""

from atoma_integrations.llama_index._context import DEFAULT_CONTEXT_WINDOW
from atoma_integrations.llama_index.chat import AtomaChat
from atoma_integrations.llama_index.llms import Atoma

__all__ = ["DEFAULT_CONTEXT_WINDOW", "Atoma", "AtomaChat"]

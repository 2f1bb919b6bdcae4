"""A standard test suite for LangChain text-completion LLMs (``BaseLLM``).

``langchain-tests`` ships ``ChatModelUnitTests`` / ``ChatModelIntegrationTests`` but nothing
for non-chat LLMs. These classes mirror the chat suites' checks for a ``BaseLLM``: subclass
one in a ``test_*.py`` file, name the subclass ``Test...`` and fill in the properties.
"""

from tests.langchain_standard.integration_tests import LLMIntegrationTests
from tests.langchain_standard.unit_tests import LLMUnitTests

__all__ = ["LLMIntegrationTests", "LLMUnitTests"]

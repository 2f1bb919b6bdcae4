"""langchain-tests' ``test_agent_loop``, unchanged, on the scripted server.

On the real local server that standard test is xfail for a server reason: it binds a tool
without a ``tool_choice``, and llama.cpp then leaves the tools out of the prompt, so the
tiny model answers text. The loop itself (a tool call, its result sent back as history,
an answer) is what the test is about, so it runs here against a server that makes the
call, for both output versions the suite runs, and checks every request on the way.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from atoma_integrations.langchain import ChatAtoma
from tests.support.scripted_server import Play, ScriptedToolCall, Turn

# What the standard test asks ("What is the weather in San Francisco, CA?", one tool).
STANDARD_LOOP = (
    Turn(
        reasoning="I should look the weather up.",
        tool_calls=(
            ScriptedToolCall("call_sf_1", "get_weather", {"location": "San Francisco, CA"}),
        ),
    ),
    Turn(reasoning="The tool says it is sunny.", content="It's sunny in San Francisco."),
)


class _ScriptedSuite(ChatModelIntegrationTests):
    """The standard suite's settings for ChatAtoma; only ``test_agent_loop`` is called."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatAtoma

    @property
    def chat_model_params(self) -> dict[str, Any]:
        raise NotImplementedError("each test builds its model on its own server")


@pytest.mark.parametrize("output_version", ["v0", "v1"])
def test_standard_agent_loop(play: Play, output_version: str) -> None:
    server = play(STANDARD_LOOP)
    model = ChatAtoma(
        model="gpt-oss-120b",
        base_url=server.url,
        api_key="sk-scripted",
        max_retries=0,
        output_version=output_version,
    )
    with server.checked():
        _ScriptedSuite().test_agent_loop(model)
    assert len(server.requests) == 2

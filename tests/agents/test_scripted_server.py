"""The scripted server's own checks: each refuses (400, recorded) what a strict server would.

The agent tests trust these checks to catch a bad history; here each is shown to fire on
a hand-written request, and a good request to pass.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support.scripted_server import Play, ScriptedToolCall, Turn

CALL = ScriptedToolCall("call_1", "get_weather", {"city": "Paris"})
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
USER = {"role": "user", "content": "Weather in Paris?"}
ASSISTANT_CALL = {
    "role": "assistant",
    "content": "",
    "tool_calls": [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ],
}
RESULT = {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
LOOP = (Turn(reasoning="Look it up.", tool_calls=(CALL,)), Turn(content="Sunny."))


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{url}/chat/completions", json={"model": "m", **body}, timeout=10)


def test_a_valid_loop_passes_and_is_played_in_atomas_wire_style(play: Play) -> None:
    server = play(LOOP, reasoning_field="both", done_marker=True)
    first = post(server.url, {"messages": [USER], "tools": [TOOL]}).json()
    message = first["choices"][0]["message"]
    assert (message["reasoning"], message["reasoning_content"]) == ("Look it up.", "Look it up.")
    assert message["tool_calls"][0]["id"] == "call_1"
    assert first["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    body = {"messages": [USER, ASSISTANT_CALL, RESULT], "tools": [TOOL], "stream": True}
    streamed = post(server.url, body).text
    assert streamed.count("data: ") == 1 + 1 + 1 + 1  # role, "Sunny.", finish+usage, [DONE]
    assert streamed.rstrip().endswith("data: [DONE]")
    server.check()


@pytest.mark.parametrize(
    ("body", "violation"),
    [
        ({"messages": [USER], "tools": []}, "tools must be a non-empty list"),
        ({"messages": [USER], "tool_choice": "auto"}, "tool_choice is sent without tools"),
        ({"messages": [USER]}, "which the request does not offer"),
        (
            {"messages": [{"role": "user", "content": [{"type": "reasoning"}]}], "tools": [TOOL]},
            "content[0] is not a valid part",
        ),
        ({"messages": [{"role": "robot", "content": "hi"}], "tools": [TOOL]}, "unknown role"),
        (
            {
                "messages": [USER],
                "tools": [TOOL],
                "response_format": {"type": "json_schema", "json_schema": {"name": "x"}},
            },
            "vLLM constrains the answer",
        ),
    ],
)
def test_a_bad_first_request_is_refused_and_recorded(
    play: Play, body: dict[str, Any], violation: str
) -> None:
    server = play(LOOP)
    response = post(server.url, body)
    assert response.status_code == 400
    assert violation in response.json()["error"]["message"]
    with pytest.raises(AssertionError, match=re.escape(violation)):
        server.check()


@pytest.mark.parametrize(
    ("messages", "violation"),
    [
        ([USER, ASSISTANT_CALL], "were not answered"),
        ([USER, RESULT], "which no call of the assistant message before it made"),
        (
            [USER, {**ASSISTANT_CALL, "reasoning": "Look it up."}, RESULT],
            "carries reasoning, which is not to be sent back",
        ),
        (
            [USER, {**ASSISTANT_CALL, "content": [{"type": "tool_call", "id": "call_1"}]}, RESULT],
            "content[0] is not a valid part",
        ),
    ],
)
def test_a_bad_history_is_refused_and_recorded(
    play: Play, messages: list[dict[str, Any]], violation: str
) -> None:
    server = play(LOOP)
    assert post(server.url, {"messages": [USER], "tools": [TOOL]}).status_code == 200
    response = post(server.url, {"messages": messages, "tools": [TOOL]})
    assert response.status_code == 400
    assert violation in response.json()["error"]["message"]
    with pytest.raises(AssertionError, match="scripted server: request 2"):
        server.check()


def test_reasoning_switch_on_expects_each_turns_reasoning_back(play: Play) -> None:
    server = play(LOOP, reasoning_in_history=True)
    post(server.url, {"messages": [USER], "tools": [TOOL]})
    missing = post(server.url, {"messages": [USER, ASSISTANT_CALL, RESULT], "tools": [TOOL]})
    assert missing.status_code == 400
    assert "expected 'Look it up.' in 'reasoning'" in missing.json()["error"]["message"]


def test_requests_beyond_the_script_and_a_script_not_played_out_fail(play: Play) -> None:
    short = play(LOOP)
    post(short.url, {"messages": [USER], "tools": [TOOL]})
    with pytest.raises(AssertionError, match="only 1 requests came"):
        short.check()
    over = play(LOOP[:1])
    post(over.url, {"messages": [USER], "tools": [TOOL]})
    extra = post(over.url, {"messages": [USER, ASSISTANT_CALL, RESULT], "tools": [TOOL]})
    assert "the script has only 1 turns" in extra.json()["error"]["message"]

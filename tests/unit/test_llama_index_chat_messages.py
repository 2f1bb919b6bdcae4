"""LlamaIndex messages and tools as chat-completions JSON (pure mapping, no transport)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.tools import FunctionTool

from atoma_integrations._tools import resolve_tool_choice
from atoma_integrations.llama_index._messages import (
    llama_tool_choice,
    to_message_dict,
    to_message_dicts,
    tool_call_dicts,
    tool_specs,
)


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


TOOLS = [FunctionTool.from_defaults(add), FunctionTool.from_defaults(weather)]
SPECS = tool_specs(TOOLS)


def test_plain_roles_and_text() -> None:
    messages = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Hi"),
        ChatMessage(role="assistant", content="Hello!"),
    ]
    assert to_message_dicts(messages) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
    ]


@pytest.mark.parametrize(
    ("role", "sent"),
    [
        (MessageRole.DEVELOPER, "system"),
        (MessageRole.CHATBOT, "assistant"),
        (MessageRole.MODEL, "assistant"),
    ],
)
def test_other_providers_role_names_map_to_the_endpoints(role: MessageRole, sent: str) -> None:
    assert to_message_dict(ChatMessage(role=role, content="x"))["role"] == sent


def test_several_text_blocks_join_as_chat_message_content_does() -> None:
    message = ChatMessage(role="user", blocks=[TextBlock(text="a"), TextBlock(text="b")])
    assert to_message_dict(message)["content"] == message.content == "a\nb"


def test_thinking_and_cache_hints_are_not_sent() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(content="hmm"),
            TextBlock(text="answer"),
            CachePoint(cache_control=CacheControl(type="ephemeral")),
        ],
    )
    assert to_message_dict(message) == {"role": "assistant", "content": "answer"}


def test_an_empty_message_is_sent_with_empty_content() -> None:
    assert to_message_dict(ChatMessage(role="user")) == {"role": "user", "content": ""}


def test_assistant_tool_call_blocks_become_tool_calls_with_empty_content() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[
            ToolCallBlock(tool_call_id="call_1", tool_name="add", tool_kwargs={"a": 1, "b": 2}),
            ToolCallBlock(tool_call_id="call_2", tool_name="weather", tool_kwargs='{"city":"X"}'),
        ],
    )
    assert to_message_dict(message) == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"X"}'},
            },
        ],
    }


def test_tool_calls_from_additional_kwargs_objects_or_dicts() -> None:
    """After a JSON round trip (a chat store) the calls are dicts; either shape is sent."""
    as_dicts = [{"id": "c", "type": "function", "function": {"name": "add", "arguments": "{}"}}]
    message = ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": as_dicts})
    assert to_message_dict(message)["tool_calls"] == as_dicts

    restored = ChatMessage.model_validate_json(message.model_dump_json())
    assert to_message_dict(restored)["tool_calls"] == as_dicts


def test_tool_call_blocks_win_over_additional_kwargs_so_calls_are_not_sent_twice() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[ToolCallBlock(tool_call_id="c", tool_name="add", tool_kwargs="{}")],
        additional_kwargs={
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "add", "arguments": "{}"}}
            ]
        },
    )
    assert len(to_message_dict(message)["tool_calls"]) == 1


def test_tool_call_dicts_normalize_missing_and_non_string_arguments() -> None:
    calls: list[Any] = [
        {"id": None, "function": {"name": "add", "arguments": None}},
        {"id": "x", "function": {"name": "add", "arguments": {"a": 1}}},
    ]
    assert tool_call_dicts(calls) == [
        {"id": "", "type": "function", "function": {"name": "add", "arguments": ""}},
        {"id": "x", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}},
    ]


def test_tool_results_carry_their_call_id() -> None:
    message = ChatMessage(role="tool", content="3", additional_kwargs={"tool_call_id": "call_1"})
    assert to_message_dict(message) == {"role": "tool", "content": "3", "tool_call_id": "call_1"}


def test_a_tool_result_without_its_call_id_is_refused_naming_the_message() -> None:
    messages = [ChatMessage(role="user", content="q"), ChatMessage(role="tool", content="3")]
    with pytest.raises(ValueError, match=r"message 1 \(tool\).*tool_call_id"):
        to_message_dicts(messages)


def test_names_are_kept() -> None:
    message = ChatMessage(role="user", content="hi", additional_kwargs={"name": "ann"})
    assert to_message_dict(message) == {"role": "user", "content": "hi", "name": "ann"}


def test_unsupported_content_is_refused_naming_the_block() -> None:
    message = ChatMessage(
        role="user", blocks=[TextBlock(text="look"), AudioBlock(audio=b"RIFF", format="wav")]
    )
    with pytest.raises(ValueError, match=r"message 0 \(user\): a AudioBlock cannot be sent"):
        to_message_dicts([message])


def test_the_legacy_function_role_is_refused_with_the_alternative() -> None:
    with pytest.raises(ValueError, match=r"'function' role.*'tool' messages"):
        to_message_dict(ChatMessage(role=MessageRole.FUNCTION, content="x"))


def test_tool_specs_are_openai_function_tools() -> None:
    assert [s["function"]["name"] for s in SPECS] == ["add", "weather"]
    add_spec = SPECS[0]
    assert add_spec["type"] == "function"
    assert "Add two integers" in add_spec["function"]["description"]
    params = add_spec["function"]["parameters"]
    assert params["required"] == ["a", "b"]
    assert params["properties"]["a"]["type"] == "integer"
    json.dumps(SPECS)  # plain JSON


@pytest.mark.parametrize(
    ("choice", "required", "sent"),
    [
        (None, False, "auto"),
        (None, True, "required"),
        ("none", True, "none"),
        ("auto", False, "auto"),
        ("required", False, "required"),
        ("weather", False, {"type": "function", "function": {"name": "weather"}}),
        (
            {"type": "function", "function": {"name": "add"}},
            False,
            {"type": "function", "function": {"name": "add"}},
        ),
    ],
)
def test_tool_choice_follows_llama_index(choice: Any, required: bool, sent: Any) -> None:
    """LlamaIndex's choice, then the core's rule (shared with ChatAtoma), with two tools."""
    assert resolve_tool_choice(llama_tool_choice(choice, required), SPECS) == sent


def test_required_with_one_tool_is_the_named_choice() -> None:
    one = tool_specs([TOOLS[0]])
    assert resolve_tool_choice(llama_tool_choice(None, True), one) == {
        "type": "function",
        "function": {"name": "add"},
    }


def test_a_tool_choice_naming_an_unknown_tool_is_refused() -> None:
    with pytest.raises(ValueError, match="'multiply', which is not a bound tool"):
        resolve_tool_choice(llama_tool_choice("multiply", False), SPECS)
    with pytest.raises(ValueError, match="'nope'"):
        resolve_tool_choice({"type": "function", "function": {"name": "nope"}}, SPECS)

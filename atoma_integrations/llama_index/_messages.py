"""LlamaIndex chat messages and tools as the JSON the chat completions endpoint takes.

Pure functions, shared by every call of ``AtomaChat``, sync and async. A message that cannot
be sent as it is (an image, an unknown role, a tool result without its call id) fails here,
naming the message, before any request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = [
    "llama_tool_choice",
    "to_message_dict",
    "to_message_dicts",
    "tool_call_dicts",
    "tool_specs",
]

# LlamaIndex roles as the endpoint's roles. "developer" is OpenAI's newer name for the system
# role, which the open models behind Atoma (and their chat templates) know only as "system";
# "chatbot" and "model" are other providers' names for the assistant.
_ROLES: dict[MessageRole, str] = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.TOOL: "tool",
}


def to_message_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """``messages`` as the request's ``messages`` list; raises naming a message it cannot send."""
    out: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        try:
            out.append(to_message_dict(message))
        except ValueError as exc:
            raise ValueError(f"message {position} ({message.role.value}): {exc}") from None
    return out


def to_message_dict(message: ChatMessage) -> dict[str, Any]:
    """One message: text as a string, tool calls and tool results in the OpenAI shape."""
    role = _ROLES.get(message.role)
    if role is None:
        raise ValueError(
            f"the {message.role.value!r} role is not sent to chat completions; "
            "use 'tool' messages (with additional_kwargs['tool_call_id']) for tool results"
        )
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ToolCallBlock):
            calls.append(_block_call(block))
        elif isinstance(block, (ThinkingBlock, CachePoint)):
            # A model's reasoning is not sent back, and a cache hint has no meaning here.
            continue
        else:
            raise ValueError(
                f"a {type(block).__name__} cannot be sent: AtomaChat sends text, tool calls "
                "and tool results"
            )
    # The same join as ChatMessage.content, so what is sent is what LlamaIndex shows.
    body: dict[str, Any] = {"role": role, "content": "\n".join(texts)}
    kwargs = message.additional_kwargs
    if role == "assistant":
        if not calls and kwargs.get("tool_calls"):
            calls = tool_call_dicts(kwargs["tool_calls"])
        if calls:
            # Content stays "" beside tool calls, never null: llama.cpp rejects a null
            # content, and Atoma and OpenAI accept "".
            body["tool_calls"] = calls
    elif role == "tool":
        call_id = kwargs.get("tool_call_id")
        if not call_id:
            raise ValueError(
                "a tool result needs the id of the call it answers, in "
                "additional_kwargs['tool_call_id']"
            )
        body["tool_call_id"] = str(call_id)
    name = kwargs.get("name")
    if isinstance(name, str) and name and role in ("user", "assistant", "system"):
        body["name"] = name
    return body


def _block_call(block: ToolCallBlock) -> dict[str, Any]:
    arguments = block.tool_kwargs
    return {
        "id": block.tool_call_id or "",
        "type": "function",
        "function": {
            "name": block.tool_name,
            "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
        },
    }


def tool_call_dicts(calls: Sequence[Any]) -> list[dict[str, Any]]:
    """Tool calls kept in ``additional_kwargs['tool_calls']`` as request dicts.

    They are the client's typed tool calls when the message came from this LLM, and plain
    dicts after a round trip through JSON (a chat store, an agent's memory).
    """
    out: list[dict[str, Any]] = []
    for call in calls:
        data = call if isinstance(call, Mapping) else call.model_dump()
        function = data.get("function") or {}
        arguments = function.get("arguments")
        if arguments is None:
            arguments = ""
        elif not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        out.append(
            {
                "id": data.get("id") or "",
                "type": "function",
                "function": {"name": function.get("name") or "", "arguments": arguments},
            }
        )
    return out


def tool_specs(tools: Sequence[BaseTool]) -> list[dict[str, Any]]:
    """The ``tools`` of the request: each tool's name, description and parameter schema."""
    return [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]


def llama_tool_choice(
    tool_choice: str | Mapping[str, Any] | None, tool_required: bool
) -> str | Mapping[str, Any]:
    """LlamaIndex's ``tool_choice`` / ``tool_required`` as the core's tool-choice input.

    None means "required" when ``tool_required`` is set, else "auto"; anything else (a word,
    a tool's name, OpenAI's dict) is passed on, for the core's ``resolve_tool_choice`` to
    check against the tools and to send ("required" with one tool as the named choice).
    """
    if tool_choice is None:
        return "required" if tool_required else "auto"
    return tool_choice

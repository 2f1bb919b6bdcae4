"""LlamaIndex chat messages and tools as the JSON the chat completions endpoint takes.

Pure functions, shared by every call of ``AtomaChat``, sync and async. Text and tool calls
are sent as they are; images of a user message (``ImageBlock``: a URL, a path or bytes) as
``image_url`` parts; a model's reasoning (``ThinkingBlock``) only when asked
(``send_reasoning``), as the assistant message's ``reasoning``. A message that cannot be sent
(an audio, video or document block, an unknown role, a tool result without its call id)
fails here, naming the message, before any request.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = [
    "UnsupportedContentError",
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


class UnsupportedContentError(ValueError):
    """A message holds a block the chat completions endpoint does not take (audio, video,
    a document, an image outside a user message); raised before any request."""


def to_message_dicts(
    messages: Sequence[ChatMessage], *, send_reasoning: bool = False
) -> list[dict[str, Any]]:
    """``messages`` as the request's ``messages`` list; raises naming a message it cannot send.

    ``send_reasoning``: send each assistant message's ``ThinkingBlock`` text as its
    ``reasoning`` (for models that think across tool calls); otherwise it is left out.
    """
    out: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        try:
            out.append(to_message_dict(message, send_reasoning=send_reasoning))
        except UnsupportedContentError as exc:
            raise UnsupportedContentError(
                f"message {position} ({message.role.value}): {exc}"
            ) from None
        except ValueError as exc:
            raise ValueError(f"message {position} ({message.role.value}): {exc}") from None
    return out


def to_message_dict(message: ChatMessage, *, send_reasoning: bool = False) -> dict[str, Any]:
    """One message: text as a string (a list of parts when a user message holds images),
    tool calls and tool results in the OpenAI shape."""
    role = _ROLES.get(message.role)
    if role is None:
        raise ValueError(
            f"the {message.role.value!r} role is not sent to chat completions; "
            "use 'tool' messages (with additional_kwargs['tool_call_id']) for tool results"
        )
    texts: list[str] = []
    parts: list[dict[str, Any]] = []  # text and image parts in order, once there is an image
    calls: list[dict[str, Any]] = []
    thoughts: list[str] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
            if parts:
                parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolCallBlock):
            calls.append(_block_call(block))
        elif isinstance(block, ThinkingBlock):
            if block.content:
                thoughts.append(block.content)
        elif isinstance(block, CachePoint):
            continue  # a cache hint has no meaning here
        elif isinstance(block, ImageBlock) and role == "user":
            if not parts:
                parts.extend({"type": "text", "text": text} for text in texts)
            parts.append(_image_part(block))
        else:
            raise UnsupportedContentError(
                f"a {type(block).__name__} cannot be sent: AtomaChat sends text, images (in "
                "user messages), tool calls and tool results"
            )
    # The same join as ChatMessage.content, so what is sent is what LlamaIndex shows.
    body: dict[str, Any] = {"role": role, "content": parts or "\n".join(texts)}
    kwargs = message.additional_kwargs
    if role == "assistant":
        if not calls and kwargs.get("tool_calls"):
            calls = tool_call_dicts(kwargs["tool_calls"])
        if calls:
            # Content stays "" beside tool calls, never null: llama.cpp rejects a null
            # content, and Atoma and OpenAI accept "".
            body["tool_calls"] = calls
        if send_reasoning and thoughts:
            body["reasoning"] = "".join(thoughts)
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


def _image_part(block: ImageBlock) -> dict[str, Any]:
    """An ``image_url`` part: the block's URL, or its bytes (given or read from its path) as
    a base64 data URL with its mime type."""
    if block.url is not None:
        url = str(block.url)
    else:
        mimetype = block.image_mimetype
        if mimetype is None and block.path is not None:
            mimetype = mimetypes.guess_type(str(block.path))[0]
        if mimetype is None:
            raise UnsupportedContentError(
                "an ImageBlock without a URL needs its image_mimetype (image/png, ...)"
            )
        data = block.resolve_image(as_base64=True).read().decode("ascii")
        url = f"data:{mimetype};base64,{data}"
    image: dict[str, Any] = {"url": url}
    if block.detail is not None:
        image["detail"] = block.detail
    return {"type": "image_url", "image_url": image}


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

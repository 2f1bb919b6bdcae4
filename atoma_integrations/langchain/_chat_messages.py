"""LangChain messages as the ``messages`` of a chat completions request.

Every message ``ChatAtoma`` produced is accepted back as history, in either output version:
an assistant message is sent as its text (``content``) and its tool calls (``tool_calls``),
whatever blocks its content holds (v1 ``text``, ``reasoning`` and ``tool_call`` blocks
included). Its reasoning is left out unless asked for (``send_reasoning``), then sent as
the message's ``reasoning``. User messages may hold images (v1 ``image`` blocks with a URL
or base64 data, OpenAI's ``image_url`` blocks); audio, video and file blocks, which the
endpoint does not take, raise :class:`UnsupportedContentError` naming the block and the
message, before any request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.utils import convert_to_openai_messages

from atoma_integrations.langchain._chat_chunks import REASONING_KEY
from atoma_integrations.langchain._errors import InvalidRequestError

__all__ = ["UnsupportedContentError", "wire_messages"]


class UnsupportedContentError(InvalidRequestError):
    """A message holds content the chat completions endpoint does not take (audio, video,
    a file); raised before any request. A ``ModelInvalidRequestError`` and a ``ValueError``."""


# Blocks of an assistant message that are not its text: each is sent in its own field (tool
# calls) or left out (reasoning, unless asked for; server-side tool traces of other providers).
_NOT_TEXT = frozenset(
    {
        "reasoning",
        "thinking",
        "redacted_thinking",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "tool_use",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
    }
)
# The blocks a user message may hold; the others (audio, video, file, ...) are refused.
_USER_BLOCKS = frozenset({"text", "image", "image_url"})
# What each role's wire content may hold once converted.
_WIRE_PARTS = {"user": frozenset({"text", "image_url"})}
_TEXT_PART = frozenset({"text"})


def wire_messages(messages: Sequence[BaseMessage], *, send_reasoning: bool) -> list[dict[str, Any]]:
    """``messages`` in OpenAI's wire shape, which the client validates.

    Raises :class:`UnsupportedContentError` for a block the endpoint does not take.
    """
    others = [m for m in messages if not isinstance(m, AIMessage)]
    for position, message in enumerate(messages):
        if not isinstance(message, AIMessage) and isinstance(message.content, list):
            _check_blocks(message, position)
    converted = iter(convert_to_openai_messages(others) if others else [])
    wire: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        if isinstance(message, AIMessage):
            wire.append(_assistant_entry(message, position, send_reasoning))
            continue
        entry = next(converted)
        role = entry.get("role")
        if role == "tool":
            # OpenAI's tool message has no name (ChatOpenAI drops it too); servers that
            # validate strictly reject it.
            entry.pop("name", None)
        content = entry.get("content")
        if isinstance(content, list):
            allowed = _WIRE_PARTS.get(str(role), _TEXT_PART)
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                if kind not in allowed:
                    raise _unsupported(message, position, kind, allowed)
        wire.append(entry)
    return wire


def _check_blocks(message: BaseMessage, position: int) -> None:
    """Refuse, by name, a block of a user, system or tool message the endpoint cannot take."""
    allowed = _USER_BLOCKS if message.type == "human" else _TEXT_PART
    for block in message.content:
        if isinstance(block, str):
            continue
        kind = block.get("type")
        if kind not in allowed:
            raise _unsupported(message, position, kind, allowed)
        if kind == "text" and not isinstance(block.get("text"), str):
            raise InvalidRequestError(
                f"message {position} ({message.type}): a 'text' block needs its text (a string)"
            )
        if kind == "image" and not (block.get("url") or block.get("base64") or block.get("data")):
            raise UnsupportedContentError(
                f"message {position} ({message.type}): an 'image' block needs a url or base64 "
                "data; Atoma's chat completions have no file ids"
            )


def _unsupported(
    message: BaseMessage, position: int, kind: Any, allowed: frozenset[str]
) -> UnsupportedContentError:
    return UnsupportedContentError(
        f"message {position} ({message.type}): a {kind!r} block cannot be sent; Atoma's chat "
        f"completions take {', '.join(sorted(allowed))} blocks in {message.type} messages"
    )


def _assistant_entry(message: AIMessage, position: int, send_reasoning: bool) -> dict[str, Any]:
    """An earlier answer: its text, its tool calls (broken ones too), its name, and its
    reasoning when ``send_reasoning`` is set."""
    texts: list[str] = []
    reasoning: list[str] = []
    content = message.content
    if isinstance(content, str):
        texts.append(content)
    else:
        for block in content:
            if isinstance(block, str):
                texts.append(block)
                continue
            kind = block.get("type")
            if kind == "text":
                texts.append(str(block.get("text") or ""))
            elif kind == "reasoning":
                reasoning.append(str(block.get("reasoning") or ""))
            elif kind not in _NOT_TEXT:
                raise _unsupported(message, position, kind, frozenset({"text", "tool_call"}))
    entry: dict[str, Any] = {"role": "assistant", "content": "".join(texts)}
    calls: list[dict[str, Any]] = [
        {
            "type": "function",
            "id": call["id"],
            "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
        }
        for call in message.tool_calls
    ]
    # A call the model made with broken arguments is still part of the history (a tool
    # message may answer it); langchain-core's converter drops it.
    calls += [
        {
            "type": "function",
            "id": call["id"],
            "function": {"name": call["name"] or "", "arguments": call["args"] or ""},
        }
        for call in message.invalid_tool_calls
        if call.get("id")
    ]
    if calls:
        entry["tool_calls"] = calls
    if message.name:
        entry["name"] = message.name
    if send_reasoning:
        thought = message.additional_kwargs.get(REASONING_KEY) or "".join(reasoning)
        if isinstance(thought, str) and thought:
            entry["reasoning"] = thought
    return entry

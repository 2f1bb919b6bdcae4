"""The tool-choice rule both chat adapters share, in the framework-free core.

Frameworks spell "the model must call a tool" differently (LangChain ``"any"``, LlamaIndex
``tool_required=True``) and name a tool by its bare name. This module turns all of them into
the request's ``tool_choice``, checked against the tools bound. A "required" choice with
exactly one tool is sent as the named choice: it means the same, and some OpenAI-compatible
servers (llama.cpp among them) reject "required" but honour a named choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["named_tool_choice", "resolve_tool_choice", "tool_names"]

_REQUIRED = ("required", "any")


def named_tool_choice(name: str) -> dict[str, Any]:
    """The wire form of "call the function ``name``"."""
    return {"type": "function", "function": {"name": name}}


def tool_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    """The function names of OpenAI-shaped tool dicts, in order."""
    names = []
    for tool in tools:
        function = tool.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str):
            raise ValueError(
                f"a tool must be {{'type': 'function', 'function': {{'name': ...}}}}, "
                f"got {dict(tool)!r}"
            )
        names.append(name)
    return names


def resolve_tool_choice(
    choice: str | bool | Mapping[str, Any] | None, tools: Sequence[Mapping[str, Any]]
) -> str | dict[str, Any] | None:
    """The ``tool_choice`` to send for ``choice`` given the bound ``tools``.

    ``None`` / ``False``: not sent (the server's default, ``auto`` with tools). ``"auto"``,
    ``"none"``: as they are. ``"required"``, ``"any"``, ``True``: ``"required"``, or the named
    choice when exactly one tool is bound. Any other string is a tool's name. A dict is
    OpenAI's named choice. A name that is not among ``tools`` is an error, before any request.
    """
    if choice is None or choice is False:
        return None
    names = tool_names(tools)
    if choice is True or choice in _REQUIRED:
        if not names:
            raise ValueError(f"tool_choice {choice!r} needs at least one tool")
        return named_tool_choice(names[0]) if len(names) == 1 else "required"
    if choice in ("auto", "none"):
        return str(choice)
    name: Any
    if isinstance(choice, str):
        name = choice
    elif isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str):
            raise ValueError(
                "tool_choice as a dict must be {'type': 'function', 'function': {'name': ...}}, "
                f"got {dict(choice)!r}"
            )
    else:
        raise TypeError(f"tool_choice must be a str, bool or dict, got {type(choice).__name__}")
    if name not in names:
        available = ", ".join(names) if names else "no tools are bound"
        raise ValueError(f"tool_choice names {name!r}, which is not a bound tool ({available})")
    return named_tool_choice(name)

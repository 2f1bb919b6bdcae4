"""The one rule for an adapter's constructor arguments: an unknown name is an error.

LangChain's pydantic models ignore unknown keyword arguments by default, so a misspelt
``temprature=0.3`` would run at the default temperature without a word; LlamaIndex's refuse
them with pydantic's generic "Extra inputs are not permitted". All six adapters refuse them
here instead, before any other check, with one message that names each unknown argument, the
closest known name, and where backend-specific body fields go.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

__all__ = ["check_known_arguments", "known_argument_names", "unknown_arguments_message"]


def known_argument_names(model: type[BaseModel]) -> frozenset[str]:
    """Every keyword ``model(...)`` takes: its fields (its bases' too) and their aliases."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for alias in (info.alias, info.validation_alias):
            if isinstance(alias, str):
                names.add(alias)
    return frozenset(names)


def unknown_arguments_message(
    owner: str, unknown: Iterable[str], known: Iterable[str], extras_field: str | None
) -> str:
    """``owner got an unknown argument 'x' (did you mean 'y'?)``, for one or several."""
    candidates = sorted(known)
    described = []
    for name in unknown:
        close = difflib.get_close_matches(name, candidates, n=1)
        described.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    noun = "an unknown argument" if len(described) == 1 else "unknown arguments"
    message = f"{owner} got {noun}: {', '.join(described)}"
    if extras_field is not None:
        message += f"; send backend-specific body fields in {extras_field}={{...}}"
    return message


def check_known_arguments(model: type[BaseModel], data: Any, extras_field: str | None) -> None:
    """Raise ``ValueError`` naming every keyword of ``data`` that ``model`` does not take.

    ``data`` is what a ``mode="before"`` model validator receives: checked when it is the
    keyword arguments (a dict), passed over otherwise (a model instance being revalidated).
    """
    if not isinstance(data, dict):
        return
    known = known_argument_names(model)
    unknown = [name for name in data if name not in known]
    if unknown:
        raise ValueError(unknown_arguments_message(model.__name__, unknown, known, extras_field))

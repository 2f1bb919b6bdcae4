"""Mark one inherited standard test xfail, keeping its own marks (parametrize, asyncio).

langchain-tests' suites are classes whose tests carry their own marks (``model`` is
parametrized indirectly, some tests are async). Overriding a test to add a mark would mean
restating those; :func:`xfail` wraps the inherited function instead, so it keeps them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pytest


def xfail(test: Callable[..., Any], reason: str, *, strict: bool = True) -> Callable[..., Any]:
    """``test`` (a standard suite's method) marked xfail with ``reason``."""
    if inspect.iscoroutinefunction(test):

        @functools.wraps(test)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await test(*args, **kwargs)

        wrapper: Callable[..., Any] = async_wrapper
    else:

        @functools.wraps(test)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            return test(*args, **kwargs)

        wrapper = sync_wrapper
    marked: Callable[..., Any] = pytest.mark.xfail(strict=strict, reason=reason)(wrapper)
    return marked

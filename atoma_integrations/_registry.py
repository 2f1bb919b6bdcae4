"""Every process-wide cache of the package, in one place, with ``clear()`` and ``close_all()``.

- Clients per connection settings (``_settings.sync_client_for`` / ``async_client_for``): one
  sync client per :class:`~atoma_integrations._settings.ClientKey`, and one async client per
  key and event loop (an async client belongs to the loop it first ran on; a loop's clients
  go when the loop is garbage collected).
- Context windows per server (``llama_index._context``), and the servers and models already
  warned about.
- The deferred build of the pydantic models (``types``): built once per process, on the first
  client, to keep ``import atoma_integrations`` cheap.

The keys hold no secret: a client's key is a :class:`~atoma_integrations._settings.ClientKey`
(a keyed digest of the API key, URL and headers), a server's is its base URL without user
info. This module imports nothing of the package at run time, so every layer may use it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from pydantic import BaseModel

    from atoma_integrations._client import AsyncAtomaClient, AtomaClient

__all__ = [
    "aclose_all",
    "async_client",
    "build_models",
    "cache_keys",
    "cached_context_lengths",
    "clear",
    "close_all",
    "context_lengths",
    "defer_build",
    "first_warning",
    "sync_client",
]

_lock = threading.Lock()
_sync_clients: dict[Hashable, AtomaClient] = {}
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[Hashable, AsyncAtomaClient]
] = weakref.WeakKeyDictionary()
# server -> {model id: context length}, or None when the server publishes no list.
_context_lengths: dict[str, dict[str, int] | None] = {}
_context_locks: dict[str, threading.Lock] = {}
_warned: set[Hashable] = set()


# --- clients ---------------------------------------------------------------------------


def sync_client(key: Hashable, build: Callable[[], AtomaClient]) -> AtomaClient:
    """The sync client under ``key``; ``build`` makes it when there is none (or it closed)."""
    client = _sync_clients.get(key)
    if client is None or client.is_closed:
        with _lock:
            client = _sync_clients.get(key)
            if client is None or client.is_closed:
                client = build()
                _sync_clients[key] = client
    return client


def async_client(
    loop: asyncio.AbstractEventLoop, key: Hashable, build: Callable[[], AsyncAtomaClient]
) -> AsyncAtomaClient:
    """The async client under ``key`` on ``loop``; built as :func:`sync_client` is."""
    with _lock:
        per_loop = _async_clients.setdefault(loop, {})
        client = per_loop.get(key)
        if client is None or client.is_closed:
            client = build()
            per_loop[key] = client
    return client


# --- context windows -------------------------------------------------------------------


def context_lengths(
    server: str, fetch: Callable[[], dict[str, int] | None]
) -> dict[str, int] | None:
    """The context lengths ``server`` publishes, ``fetch``-ed once per process.

    One caller fetches while the others for the same server wait for its answer; every
    outcome is kept, a failure (None) too.
    """
    if server in _context_lengths:
        return _context_lengths[server]
    with _lock:
        server_lock = _context_locks.setdefault(server, threading.Lock())
    with server_lock:
        if server not in _context_lengths:
            _context_lengths[server] = fetch()
        return _context_lengths[server]


def cached_context_lengths(server: str) -> dict[str, int] | None:
    """The context lengths of ``server`` if already fetched, else None; never fetches."""
    return _context_lengths.get(server)


def first_warning(key: Hashable) -> bool:
    """True the first time ``key`` is seen in the process (for warn-once messages)."""
    with _lock:
        if key in _warned:
            return False
        _warned.add(key)
        return True


# --- the deferred build of the pydantic models ------------------------------------------

_build_lock = threading.Lock()
_deferred: list[type[BaseModel]] = []
_built = False


def defer_build(*models: type[BaseModel]) -> None:
    """Register ``models`` (declared with ``defer_build=True``) for :func:`build_models`.

    A module imported after the build (an adapter's types, say) has its models built at once.
    """
    with _build_lock:
        _deferred.extend(models)
        if _built:
            for model in models:
                model.model_rebuild()


def build_models() -> None:
    """Build every registered model's validator now, once per process.

    The models defer their build to keep the import cheap. Building them here, under a lock,
    keeps threads that first use a model at the same moment (a LangChain batch on a thread
    pool) off pydantic's lazy path, which older pydantic releases did not make thread-safe.
    """
    global _built
    if _built:
        return
    with _build_lock:
        if not _built:
            for model in _deferred:
                model.model_rebuild()
            _built = True


# --- the whole registry ----------------------------------------------------------------


def cache_keys() -> list[Hashable]:
    """Every key the caches hold now (client keys, servers, warnings), for inspection."""
    with _lock:
        found: list[Hashable] = [*_sync_clients, *_context_lengths, *_warned]
        for per_loop in _async_clients.values():
            found.extend(per_loop)
    return found


def async_clients() -> list[tuple[AsyncAtomaClient, asyncio.AbstractEventLoop]]:
    """Every shared async client with the loop it belongs to (closing one needs its loop)."""
    with _lock:
        return [
            (client, loop)
            for loop, per_loop in _async_clients.items()
            for client in per_loop.values()
        ]


def clear() -> None:
    """Forget every cached client, context window and warning.

    Clients are not closed (a stream still being read keeps working): an aiohttp pool
    closes when its client is garbage collected or its loop shuts down, but httpx's own
    pool (``transport="httpx"``) only when closed. Use :func:`close_all` (or, inside a
    loop, :func:`aclose_all`) to release the connections. The model build stays: it
    depends on the code, not on any setting.
    """
    with _lock:
        _sync_clients.clear()
        _async_clients.clear()
        _context_lengths.clear()
        _context_locks.clear()
        _warned.clear()


def close_all() -> None:
    """Close every cached client that can be closed from here, then :func:`clear`.

    Sync clients are closed; async clients of a loop that is not running are closed on it.
    An async client can only be closed by its own running loop, so those of a running loop
    are left to it: their pools close when that loop shuts down (``asyncio.run`` does it), or
    call :func:`aclose_all` from inside the loop.
    """
    with _lock:
        sync = list(_sync_clients.values())
        per_loop = [(loop, list(clients.values())) for loop, clients in _async_clients.items()]
    for client in sync:
        client.close()
    # run_until_complete is refused while any loop runs in this thread (inside aclose_all).
    if _running_loop() is None:
        for loop, clients in per_loop:
            if loop.is_closed() or loop.is_running():
                continue
            for async_client in clients:
                loop.run_until_complete(async_client.aclose())
    clear()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    # asyncio is imported only when needed: this module is on the path of a bare
    # ``import atoma_integrations``, which must stay cheap.
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def aclose_all() -> None:
    """:func:`close_all`, and also the async clients of the running loop, awaited."""
    import asyncio

    with _lock:
        running = list(_async_clients.get(asyncio.get_running_loop(), {}).values())
    for client in running:
        await client.aclose()
    close_all()

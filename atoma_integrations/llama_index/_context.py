"""Context windows for the LlamaIndex LLMs: asked of the server once per base URL.

Atoma publishes each model's context length at ``{base_url}/open_router/models``; a local
llama.cpp or vLLM server has no such list, and then the package's table of the models Atoma
documents answers, else a documented default is assumed, with one warning per base URL
and model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from atoma_integrations._adapters import ClientSettings, sync_client_for
from atoma_integrations._profiles import chat_model_profile
from atoma_integrations.errors import AtomaError, NotFoundError

__all__ = [
    "DEFAULT_CONTEXT_WINDOW",
    "context_window_for",
    "known_context_window",
    "without_userinfo",
]

logger = logging.getLogger("atoma_integrations.llama_index")

# The context window assumed when the server publishes none for the model (a local
# llama.cpp or vLLM server has no /open_router/models). It is small on purpose: the models
# Atoma serves take far more, so it only makes LlamaIndex pack less per call, whereas a
# guess that is too large makes requests fail. Pass ``context_window=`` to use a larger
# model fully, or for a server started with a smaller context (llama.cpp's n_ctx).
DEFAULT_CONTEXT_WINDOW = 4096


def context_window_for(settings: ClientSettings, model: str, llm_class: str) -> int:
    """The context window of ``model``: published by the server, documented, or the default
    (warned)."""
    lengths = _server_context_lengths(settings)
    window = _lookup(lengths, model) or _documented_window(model)
    if window is not None:
        return window
    _warn_default_once(settings.base_url or "", model, lengths, llm_class)
    return DEFAULT_CONTEXT_WINDOW


def known_context_window(settings: ClientSettings, model: str) -> int | None:
    """The window if the server's list was already read or Atoma documents the model, else
    None; never sends a request."""
    return _lookup(_CONTEXT_LENGTHS.get(settings.base_url or ""), model) or _documented_window(
        model
    )


def _documented_window(model: str) -> int | None:
    """The context window of a model Atoma documents (the package's static table)."""
    profile = chat_model_profile(model)
    return profile.max_input_tokens if profile is not None else None


# base URL -> {model id: context length}, or None when the server publishes no list.
_CONTEXT_LENGTHS: dict[str, dict[str, int] | None] = {}
_CONTEXT_LOCKS: dict[str, threading.Lock] = {}
_CONTEXT_LOCKS_GUARD = threading.Lock()
_WARNED: set[tuple[str, str]] = set()


def _server_context_lengths(settings: ClientSettings) -> dict[str, int] | None:
    """Atoma's published context lengths for this server, asked for once per process.

    Every outcome is remembered, a failure too: metadata is read many times per query,
    and a server that cannot answer now should not cost a request (and its retries) each.
    """
    base_url = settings.base_url or ""
    if base_url in _CONTEXT_LENGTHS:
        return _CONTEXT_LENGTHS[base_url]
    with _CONTEXT_LOCKS_GUARD:
        lock = _CONTEXT_LOCKS.setdefault(base_url, threading.Lock())
    with lock:
        if base_url in _CONTEXT_LENGTHS:
            return _CONTEXT_LENGTHS[base_url]
        lengths: dict[str, int] | None
        try:
            lengths = sync_client_for(settings).models.context_lengths() or None
        except NotFoundError:
            # A local llama.cpp or vLLM server answers 404: it has no such list.
            lengths = None
        except AtomaError as exc:
            logger.warning("Atoma: could not read the context lengths at %s: %s", base_url, exc)
            lengths = None
        _CONTEXT_LENGTHS[base_url] = lengths
        return lengths


def _lookup(lengths: Mapping[str, int] | None, model: str) -> int | None:
    if not lengths:
        return None
    window = lengths.get(model)
    if window is None:
        folded = model.casefold()
        window = next((v for k, v in lengths.items() if k.casefold() == folded), None)
    return window


def _warn_default_once(
    base_url: str, model: str, lengths: Mapping[str, int] | None, llm_class: str
) -> None:
    if (base_url, model) in _WARNED:
        return
    _WARNED.add((base_url, model))
    why = (
        f"{base_url}/open_router/models does not list {model!r}"
        if lengths
        else f"{base_url} publishes no context lengths (/open_router/models)"
    )
    logger.warning(
        "Atoma: %s; assuming a context window of %d tokens. Pass %s(context_window=...) to set it.",
        why,
        DEFAULT_CONTEXT_WINDOW,
        llm_class,
    )


def without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))

"""Context windows for the LlamaIndex LLMs: asked of the server once per base URL.

Atoma publishes each model's context length at ``{base_url}/open_router/models``; a local
llama.cpp or vLLM server has no such list, and then the package's table of the models Atoma
documents answers, else a documented default is assumed, with one warning per base URL
and model. What was read and warned is kept in the process-wide registry (``_registry``;
``_registry.clear()`` forgets it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from atoma_integrations import _registry
from atoma_integrations._profiles import chat_model_profile
from atoma_integrations._settings import ClientSettings, sync_client_for, without_userinfo
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
    # Keyed and logged by the server without user info: a URL's password is a credential.
    server = without_userinfo(settings.base_url)
    lengths = _registry.context_lengths(server, lambda: _read_context_lengths(settings))
    window = _lookup(lengths, model) or _documented_window(model)
    if window is not None:
        return window
    _warn_default_once(server, model, lengths, llm_class)
    return DEFAULT_CONTEXT_WINDOW


def known_context_window(settings: ClientSettings, model: str) -> int | None:
    """The window if the server's list was already read or Atoma documents the model, else
    None; never sends a request."""
    server = without_userinfo(settings.base_url)
    return _lookup(_registry.cached_context_lengths(server), model) or _documented_window(model)


def _documented_window(model: str) -> int | None:
    """The context window of a model Atoma documents (the package's static table)."""
    profile = chat_model_profile(model)
    return profile.max_input_tokens if profile is not None else None


def _read_context_lengths(settings: ClientSettings) -> dict[str, int] | None:
    """Atoma's published context lengths for this server, or None.

    The registry keeps every outcome, a failure too: metadata is read many times per query,
    and a server that cannot answer now should not cost a request (and its retries) each.
    """
    try:
        return sync_client_for(settings).models.context_lengths() or None
    except NotFoundError:
        # A local llama.cpp or vLLM server answers 404: it has no such list.
        return None
    except AtomaError as exc:
        logger.warning(
            "Atoma: could not read the context lengths at %s: %s",
            without_userinfo(settings.base_url),
            exc,
        )
        return None


def _lookup(lengths: Mapping[str, int] | None, model: str) -> int | None:
    if not lengths:
        return None
    window = lengths.get(model)
    if window is None:
        folded = model.casefold()
        window = next((v for k, v in lengths.items() if k.casefold() == folded), None)
    return window


def _warn_default_once(
    server: str, model: str, lengths: Mapping[str, int] | None, llm_class: str
) -> None:
    if not _registry.first_warning(("context window", server, model)):
        return
    why = (
        f"{server}/open_router/models does not list {model!r}"
        if lengths
        else f"{server} publishes no context lengths (/open_router/models)"
    )
    logger.warning(
        "Atoma: %s; assuming a context window of %d tokens. Pass %s(context_window=...) to set it.",
        why,
        DEFAULT_CONTEXT_WINDOW,
        llm_class,
    )

"""The connection settings every adapter shares, and the process-wide client for them.

:class:`ConnectionSettings` declares the fields (``api_key``, ``base_url``, ``timeout``,
``max_retries``, ``default_headers``, ``transport``, ``verify_signatures``,
``trusted_signers``) once, framework-free; the LangChain and
LlamaIndex adapters inherit it and add only what their framework needs (LangChain's
``lc_secrets``, LlamaIndex's ``to_dict``). :meth:`ConnectionSettings._client_settings`
resolves them by the client's own rules (``_config.resolve_config``: arguments, then the
environment, and a key from the environment only for the Atoma cloud or ``ATOMA_BASE_URL``)
into a frozen :class:`ClientSettings`, and its :attr:`ClientSettings.key` decides which
adapters share a client: two adapters with the same effective settings share one, whichever
framework each belongs to.

Adapters hold settings, not connections. Clients are built on first use and kept in the
registry (``_registry``), so creating many adapter objects (one per request, as web apps
often do) does not open a connection pool each. The async client is per event loop, because
an httpx.AsyncClient belongs to the loop it first ran on: the same adapter then works across
separate ``asyncio.run()`` calls and in notebooks.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from typing_extensions import Self

from atoma_integrations import _registry
from atoma_integrations._arguments import check_known_arguments
from atoma_integrations._client import AsyncAtomaClient, AtomaClient
from atoma_integrations._config import resolve_config
from atoma_integrations._signatures import VerificationSettings
from atoma_integrations._transport import AsyncTransportName

__all__ = [
    "ClientKey",
    "ClientSettings",
    "ConnectionSettings",
    "async_client_for",
    "sync_client_for",
    "without_userinfo",
]

# The secret of this process's cache keys: a key digest made with it identifies the API key
# within the process, and is worthless outside it (no dictionary of known keys can be
# hashed against it).
_DIGEST_KEY = os.urandom(32)


def without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part, fit for logs, metadata and cache keys."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class ClientKey(NamedTuple):
    """What makes two clients interchangeable; it holds no secret.

    The API key, the full base URL and the headers (which may carry credentials) enter only
    through ``secrets``, a keyed digest of them, so a cache key, its ``repr`` or a log of it
    never reveals them.
    """

    server: str
    """The base URL without user info (readable; the full URL is in ``secrets``)."""
    timeout: float | None
    """Seconds per request, or None for the client's default."""
    max_retries: int
    """Retries of a failed request, in total."""
    transport: AsyncTransportName | None
    """The async client's pool (the sync client has one kind only)."""
    secrets: str
    """Keyed digest of the API key, the full base URL and the headers."""
    verify_signatures: bool = False
    """Whether the client checks node signatures (a verifying client is never shared
    with one that does not)."""
    trusted_signers: tuple[str, ...] | None = None
    """The Sui addresses the client accepts, sorted; None for any."""


@dataclass(frozen=True, repr=False)
class ClientSettings:
    """Resolved connection settings: exactly what a client is built from.

    Its ``repr`` shows no credential: the key masked, the URL without user info, no headers.
    """

    api_key: SecretStr | None
    """The key to send (explicit or from the environment), or None for a keyless server."""
    base_url: str
    """Base URL including ``/v1``, normalized."""
    timeout: float | None
    """Seconds per request; None keeps the client's default."""
    max_retries: int
    """Retries of a failed request, in total."""
    default_headers: tuple[tuple[str, str], ...] = ()
    """Extra headers, sorted."""
    transport: AsyncTransportName | None = None
    """The async client's pool (None: the default); the sync client has one pool only."""
    verify_signatures: bool = False
    """Check the node signature of every response and stream chunk."""
    trusted_signers: tuple[str, ...] | None = None
    """Normalized, sorted Sui addresses allowed to sign; None for any."""

    def __repr__(self) -> str:
        key = "set" if self.api_key is not None else "none"
        return (
            f"ClientSettings(base_url={without_userinfo(self.base_url)!r}, api_key=<{key}>, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, "
            f"headers={len(self.default_headers)}, transport={self.transport!r}, "
            f"verify_signatures={self.verify_signatures!r}, "
            f"trusted_signers={self.trusted_signers!r})"
        )

    @property
    def key(self) -> ClientKey:
        """The registry key of this client: equal settings, equal key; never the secret."""
        digest = hashlib.blake2b(key=_DIGEST_KEY, digest_size=16)
        secret = self.api_key.get_secret_value() if self.api_key is not None else ""
        # Length-prefixed parts, so no two different settings can run together the same.
        for part in (secret, self.base_url, *(f"{k}\0{v}" for k, v in self.default_headers)):
            data = part.encode()
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return ClientKey(
            server=without_userinfo(self.base_url),
            timeout=self.timeout,
            max_retries=self.max_retries,
            transport=self.transport,
            secrets=digest.hexdigest(),
            verify_signatures=self.verify_signatures,
            trusted_signers=self.trusted_signers,
        )

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "max_retries": self.max_retries,
            "default_headers": dict(self.default_headers) or None,
            "verify_signatures": self.verify_signatures,
            "trusted_signers": self.trusted_signers,
        }
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        return kwargs


def sync_client_for(settings: ClientSettings) -> AtomaClient:
    """The process-wide sync client for ``settings``, built on first use."""
    return _registry.sync_client(
        settings.key._replace(transport=None),
        lambda: AtomaClient(**settings._client_kwargs()),
    )


def async_client_for(settings: ClientSettings) -> AsyncAtomaClient:
    """The async client for ``settings`` on the running event loop, built on first use."""
    return _registry.async_client(
        asyncio.get_running_loop(),
        settings.key,
        lambda: AsyncAtomaClient(**settings._client_kwargs(), transport=settings.transport),
    )


class ConnectionSettings(BaseModel):
    """Where and how an adapter reaches the server: the fields every adapter has.

    The key and the headers are kept out of ``model_dump`` (and so out of LlamaIndex's
    ``to_dict`` / ``to_json``) and the headers out of ``repr``: either may be a credential.
    """

    model_config = ConfigDict(use_attribute_docstrings=True)

    # The field for backend-specific body fields, if the adapter has one: the unknown-argument
    # error points there (LangChain's ``model_kwargs``, LlamaIndex's ``additional_kwargs``).
    _extras_field: ClassVar[str | None] = None

    api_key: SecretStr | None = Field(default=None, exclude=True)
    """API key; None takes ``ATOMA_API_KEY`` / ``ATOMASDK_BEARER_AUTH`` (for the Atoma cloud
    or ``ATOMA_BASE_URL`` only)."""
    base_url: str | None = None
    """Server URL including ``/v1``; None means ``ATOMA_BASE_URL``, else the Atoma cloud."""
    timeout: float | None = None
    """Seconds per request (and between two stream events); None means 120 s, connect 10 s."""
    max_retries: int = 2
    """Retries of a failed request (connection errors, 408, 429, 5xx), in total."""
    default_headers: dict[str, str] | None = Field(default=None, exclude=True, repr=False)
    """Extra HTTP headers sent with every request (out of dumps and repr: may be secret)."""
    transport: AsyncTransportName | None = None
    """The async calls' connection pool: None or "aiohttp" (the default, fast under
    concurrency), or "httpx" for httpx's own. Sync calls always use httpx's pool."""
    verify_signatures: bool = False
    """Check the signature Atoma's node puts on every response and stream chunk before it
    is used (``docs/verification.md``); a failure raises ``SignatureVerificationError``.
    Needs the ``atoma-integrations[verify]`` extra."""
    trusted_signers: list[str] | None = None
    """Sui addresses of the node keys to accept; setting it turns verification on and any
    other signer fails. None accepts any valid signature."""

    @model_validator(mode="before")
    @classmethod
    def _known_arguments_only(cls, data: Any) -> Any:
        """An unknown (say, misspelt) argument is an error naming it, never dropped."""
        extras = cls._extras_field if cls._extras_field in cls.model_fields else None
        check_known_arguments(cls, data, extras)
        return data

    @model_validator(mode="after")
    def _verification_can_run(self) -> Self:
        """With verification asked for, fail now if it cannot run (a malformed address, no
        ``atoma-integrations[verify]``) rather than at the adapter's first call."""
        if self.verify_signatures or self.trusted_signers is not None:
            VerificationSettings(self.verify_signatures, self.trusted_signers).build()
        return self

    def _client_settings(self) -> ClientSettings:
        """The settings resolved by the client's rules; raises ``ConfigurationError``.

        Resolved on each call (a few microseconds): a key from the environment is never
        stored on the adapter, so it cannot leak through pickling or serialization, and a
        rotated ``ATOMA_API_KEY`` or a changed ``ATOMA_BASE_URL`` takes effect at once.
        """
        config = resolve_config(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
        )
        verification = VerificationSettings(self.verify_signatures, self.trusted_signers)
        trusted = verification.trusted_signers
        return ClientSettings(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=tuple(sorted(config.default_headers.items())),
            transport=self.transport,
            verify_signatures=verification.verify_signatures,
            trusted_signers=None if trusted is None else tuple(trusted),
        )

"""Resolve the API key, base URL and timeouts from arguments and the environment.

The rule that keeps keys safe: a key the caller passes goes wherever the caller points the
client; a key found in the environment (``ATOMA_API_KEY``, then ``ATOMASDK_BEARER_AUTH``) is
sent only to the Atoma cloud or to ``ATOMA_BASE_URL``, the places the environment itself
names. So ``AtomaClient(base_url="http://some-other-host/v1")`` never leaks an Atoma key there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TypeAlias
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from atoma_integrations._version import __version__
from atoma_integrations.errors import ConfigurationError

__all__ = [
    "API_KEY_ENV_VARS",
    "ATOMA_CLOUD_BASE_URL",
    "BASE_URL_ENV_VAR",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ClientConfig",
    "TimeoutTypes",
    "resolve_config",
    "resolve_timeout",
]

ATOMA_CLOUD_BASE_URL = "https://api.atoma.network/v1"
ATOMA_CLOUD_HOST = "api.atoma.network"
API_KEY_ENV_VARS = ("ATOMA_API_KEY", "ATOMASDK_BEARER_AUTH")
BASE_URL_ENV_VAR = "ATOMA_BASE_URL"
DEFAULT_MAX_RETRIES = 2
# Never "wait forever": 10 s to connect; 120 s for each read, which in a stream is the
# longest silence allowed between two events (Atoma sends keep-alives every ~15 ms).
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)

TimeoutTypes: TypeAlias = float | httpx.Timeout


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to talk to one server; immutable once resolved."""

    base_url: str
    """Base URL including ``/v1``, without a trailing slash."""
    api_key: SecretStr | None
    """The key to send, or None for a keyless local server."""
    api_key_is_explicit: bool
    """True when the caller passed the key (it then travels with a pickle)."""
    timeout: httpx.Timeout
    """Default timeout of every request."""
    max_retries: int
    """Retries after the first attempt, in total."""
    default_headers: dict[str, str] = field(default_factory=dict)
    """Extra headers sent on every request."""

    def headers(self) -> dict[str, str]:
        """Headers for every request: auth, JSON, user agent, then the caller's own."""
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"atoma-integrations/{__version__}",
        }
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key.get_secret_value()}"
        headers.update(self.default_headers)
        return headers


def _normalize_base_url(raw: str, *, source: str) -> str:
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{source} must be an http(s) URL such as {ATOMA_CLOUD_BASE_URL!r}, got {raw!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{source} must not have a query or fragment, got {raw!r}")
    if parts.hostname == ATOMA_CLOUD_HOST and parts.scheme != "https":
        # The key would cross the internet in clear text.
        raise ConfigurationError(f"{source} must use https for the Atoma cloud, got {raw!r}")
    if parts.path in ("", "/"):
        # A bare host ("http://localhost:8000") means its OpenAI-compatible /v1 root.
        url += "/v1"
    return url


def _is_atoma_cloud(url: str) -> bool:
    return urlsplit(url).hostname == ATOMA_CLOUD_HOST


def _env_api_key() -> str | None:
    for name in API_KEY_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def resolve_timeout(value: TimeoutTypes | None, *, name: str = "timeout") -> httpx.Timeout | None:
    """A finite, non-negative httpx.Timeout from seconds or a Timeout; None stays None."""
    if value is None:
        return None
    if isinstance(value, httpx.Timeout):
        parts = (value.connect, value.read, value.write, value.pool)
        if any(part is not None and part < 0 for part in parts):
            raise ConfigurationError(f"{name} must not be negative, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(
            f"{name} must be seconds (a number) or an httpx.Timeout, got {value!r}"
        )
    if not value > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
    return httpx.Timeout(float(value), connect=min(float(value), DEFAULT_TIMEOUT.connect or 10.0))


def resolve_config(
    *,
    api_key: str | SecretStr | None,
    base_url: str | None,
    timeout: TimeoutTypes | None,
    max_retries: int,
    default_headers: dict[str, str] | None,
) -> ClientConfig:
    """Apply the argument > environment > default order and the key-safety rule."""
    env_base_url = os.environ.get(BASE_URL_ENV_VAR, "").strip() or None
    if base_url is not None:
        url = _normalize_base_url(base_url, source="base_url")
    elif env_base_url is not None:
        url = _normalize_base_url(env_base_url, source=BASE_URL_ENV_VAR)
    else:
        url = ATOMA_CLOUD_BASE_URL

    explicit = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    if explicit is not None and not explicit.strip():
        raise ConfigurationError("api_key must not be empty")
    key: str | None = explicit.strip() if explicit is not None else None
    if key is None:
        env_url = (
            _normalize_base_url(env_base_url, source=BASE_URL_ENV_VAR) if env_base_url else None
        )
        if _is_atoma_cloud(url) or url == env_url:
            key = _env_api_key()
    if key is None and _is_atoma_cloud(url):
        raise ConfigurationError(
            "No API key for the Atoma cloud: set ATOMA_API_KEY (create a key at "
            "https://cloud.atoma.network) or pass api_key=..."
        )

    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be a non-negative integer, got {max_retries!r}")
    resolved_timeout = resolve_timeout(timeout) or DEFAULT_TIMEOUT
    headers = dict(default_headers or {})
    if any(name.lower() == "authorization" for name in headers) and key is not None:
        raise ConfigurationError("pass the key as api_key, not as an Authorization header")
    return ClientConfig(
        base_url=url,
        api_key=SecretStr(key) if key is not None else None,
        api_key_is_explicit=explicit is not None,
        timeout=resolved_timeout,
        max_retries=max_retries,
        default_headers=headers,
    )

"""The package version, in one place (read by the User-Agent header and by the adapters)."""

__version__ = "0.1.0"

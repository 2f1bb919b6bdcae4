"""The signing relay (``scripts/local_server/relay.py``) for tests: the one started next to
the local server by ``scripts/run_tests.sh``, or one spawned for the session.

``TS_RELAY_URL`` and ``TS_SIGNER_ADDRESS`` in the environment (what ``start_relay.sh``
prints) name a relay already running; without them a relay is spawned in front of the
server on a free port and stopped at the end, so a test file run on its own with only the
server up still has one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RELAY_SCRIPT", "Relay", "relay_for", "running_relay"]

RELAY_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "local_server" / "relay.py"


@dataclass(frozen=True)
class Relay:
    """A running relay: where it listens and the address it signs with."""

    base_url: str
    """Its base URL, with ``/v1``."""
    signer: str
    """Its key's Sui address, for ``trusted_signers``."""


@contextmanager
def running_relay(upstream: str, *, keep_alive_ms: float | None = None) -> Iterator[Relay]:
    """A relay spawned on a free port in front of ``upstream``, stopped on exit."""
    command = [sys.executable, str(RELAY_SCRIPT), "--upstream", upstream, "--port", "0"]
    if keep_alive_ms is not None:
        command += ["--keep-alive-ms", str(keep_alive_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(2)]
        assert all(line.startswith("TS_") for line in lines), f"the relay did not start: {lines}"
        printed = dict(line.split("=", 1) for line in lines)
        yield Relay(printed["TS_RELAY_URL"], printed["TS_SIGNER_ADDRESS"])
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def relay_for(upstream: str) -> Iterator[Relay]:
    """The relay ``run_tests.sh`` started (from the environment), else a spawned one."""
    url, signer = os.environ.get("TS_RELAY_URL"), os.environ.get("TS_SIGNER_ADDRESS")
    if url and signer:
        yield Relay(url, signer)
        return
    with running_relay(upstream) as relay:
        yield relay

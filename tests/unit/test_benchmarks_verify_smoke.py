"""The verification benchmark runs end to end (``benchmarks/verify_stream.py --smoke``).

No timing is asserted (the machine is shared and loaded); what is asserted is what a reader
of RESULTS.md relies on: every peer (the floor, the client and ChatAtoma with verification
off and on) is measured on the signed stream, the lone check and hash are reported beside
them, and each pair gets its verdict against the limit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cryptography", reason="the [verify] extra (cryptography) is not installed")

ROOT = Path(__file__).resolve().parents[2]
PEERS = (
    "httpx (floor)",
    "AtomaClient chat, verification off",
    "AtomaClient chat, verification on",
    "ChatAtoma, verification off",
    "ChatAtoma, verification on",
)


def test_the_smoke_run_reports_every_peer_and_the_lone_check(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    report.write_text("# an old report\n\nkept\n")
    script = ROOT / "benchmarks" / "verify_stream.py"
    completed = subprocess.run(
        [sys.executable, str(script), "--smoke", "--output", str(report)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    text = report.read_text()
    assert text.startswith("# an old report\n\nkept\n")  # the rest of the report is kept
    section = text[text.index("<!-- verify_stream.py: begin -->") :]
    for peer in PEERS:
        assert f"| {peer} | " in section
    assert "One check alone: " in section and "one BLAKE2b-256 hash alone: " in section
    for pair in ("AtomaClient chat", "ChatAtoma"):
        assert f"| {pair} | " in section.split("with verification on")[1]

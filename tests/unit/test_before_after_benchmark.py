"""The before/after benchmark runs both versions side by side and writes only its section.

It compares against HEAD here (the same code twice), so the test needs only the checkout's
own history; what it checks is that every workload produced a row for each peer measured in
both versions, and that the rest of the report is kept.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = (sys.executable, "-m", "benchmarks.before_after")


def test_every_workload_compares_each_peer_with_its_earlier_self(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    report.write_text("# Benchmark results\n\nother workloads\n")
    completed = subprocess.run(
        [*COMMAND, "--ref", "HEAD", "--smoke", "--output", str(report)],
        capture_output=True,
        text=True,
        timeout=200,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = report.read_text()
    assert text.startswith("# Benchmark results\n\nother workloads\n")
    section = text[text.index("<!-- before_after.py: begin -->") :]
    assert section.rstrip().endswith("<!-- before_after.py: end -->")
    rows = [line for line in section.splitlines() if line.startswith("| W")]
    for workload in ("W1 per request", "W2 per token, openai wire", "W2 per token, atoma wire"):
        peers = {row.split(" | ")[1] for row in rows if row.startswith(f"| {workload} |")}
        expected = (
            {"AtomaClient"}
            if workload.startswith("W1")
            else {
                "AtomaClient",
                "AtomaLLM",
                "llama_index Atoma",
            }
        )
        assert peers == expected, (workload, rows)
    assert "| 8 requests in flight |" in section
    assert "| 8 streams in flight |" in section

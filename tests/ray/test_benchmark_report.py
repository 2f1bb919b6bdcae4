"""benchmarks/ray_batch.py writes only its own section of RESULTS.md, which others share."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import ray_batch


def _runs() -> list[ray_batch.Run]:
    one = ray_batch.Run("one process, AtomaLLM.abatch, 8 in flight", 100, 0.5, 2.0, 0.2)
    on_ray = ray_batch.Run("Ray, AtomaLLM, 2 actor(s) x 8 in flight", 100, 1.0, 2.0, 0.4)
    on_ray.fixed = 0.5
    return [one, on_ray]


def test_the_section_is_replaced_in_place_and_the_rest_of_the_file_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## W1\n\ntable\n", encoding="utf-8")
    monkeypatch.setattr(ray_batch, "RESULTS_PATH", results)
    info = {"cores": 2, "cpu": "test cpu"}

    ray_batch.write_section(ray_batch.render(_runs(), info, 1.5))
    first = results.read_text(encoding="utf-8")
    assert first.startswith("# Benchmark results\n\n## W1\n\ntable\n\n<!-- ray_batch.py: begin -->")
    assert (
        "| Ray, AtomaLLM, 2 actor(s) x 8 in flight | 100 | 0.50x | 1.00 | 0.50 | 4.00 | 2.00 |"
        in first
    )

    results.write_text(first + "\n## Added later by another workload\n", encoding="utf-8")
    ray_batch.write_section(ray_batch.render(_runs()[:1], info, 3.0))
    second = results.read_text(encoding="utf-8")
    assert second.count(ray_batch.BEGIN) == 1 and second.count(ray_batch.END) == 1
    assert "load average 3.0" in second and "2 actor(s)" not in second
    assert second.endswith("## Added later by another workload\n")

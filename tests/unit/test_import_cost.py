"""What ``import atoma_integrations`` loads: only what a synchronous user needs.

DESIGN.md bounds the import at 1.2x ``import httpx; from pydantic import BaseModel``, and
the benchmarks measure it. Timing is too noisy to assert here; what is asserted is the
deterministic part: heavy modules the sync path never uses stay unloaded until used.
"""

from __future__ import annotations

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint('\\n'.join(sys.modules))"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(completed.stdout.split())


def test_importing_the_package_does_not_import_asyncio() -> None:
    # asyncio and what it pulls in (concurrent.futures, subprocess, ssl helpers) cost about
    # 8 ms, a fifth of the budget; httpx and pydantic do not import it either.
    baseline = _modules_after("import httpx\nfrom pydantic import BaseModel")
    assert "asyncio" not in baseline
    assert "asyncio" not in _modules_after("import atoma_integrations")


def test_the_async_client_still_works_after_a_lazy_asyncio_import() -> None:
    code = (
        "import asyncio\n"
        "from atoma_integrations import AsyncAtomaClient\n"
        "from atoma_integrations import _client\n"
        "async def main():\n"
        "    async with AsyncAtomaClient(base_url='http://127.0.0.1:9/v1') as c:\n"
        "        await _client._async_sleep(0)\n"
        "        return c.base_url\n"
        "print(asyncio.run(main()))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.strip() == "http://127.0.0.1:9/v1"


def test_models_are_built_when_a_client_is_created_not_at_import() -> None:
    code = (
        "from atoma_integrations import models, AtomaClient\n"
        "print(models.Completion.__pydantic_complete__)\n"
        "AtomaClient(base_url='http://127.0.0.1:9/v1')\n"
        "print(all(m.__pydantic_complete__ for m in (models.Completion, models.CompletionChunk,"
        " models.CompletionRequest, models.Usage, models.ModelList)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.split() == ["False", "True"]


def test_importing_the_package_or_its_ray_helpers_does_not_import_ray() -> None:
    # Ray takes seconds to import and is an optional extra: only map_column imports it.
    for statement in ("import atoma_integrations", "import atoma_integrations.ray"):
        loaded = _modules_after(statement)
        assert not {m for m in loaded if m == "ray" or m.startswith("ray.")}, statement

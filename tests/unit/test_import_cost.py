"""What ``import atoma_integrations`` loads: its names on first use, and never aiohttp early.

The import's target (``benchmarks/README.md``) is relative to ``import httpx; from pydantic
import BaseModel``, and the benchmarks measure it. Timing is too noisy to assert here; what
is asserted is the deterministic part: the top level loads its names on first use (so the
pydantic models, the client and the transport cost nothing until touched), the sync path
never imports asyncio or aiohttp, and the lazy table, ``__all__`` and the names type
checkers see agree.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import atoma_integrations


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
    if "asyncio" in baseline:  # some older httpx / pydantic releases import it themselves
        pytest.skip("import httpx + pydantic already imports asyncio here")
    assert "asyncio" not in _modules_after("import atoma_integrations")


def test_importing_the_package_loads_no_client_model_or_transport() -> None:
    loaded = _modules_after("import atoma_integrations")
    for heavy in ("aiohttp", "httpx_aiohttp", "pydantic", "atoma_integrations._client"):
        assert heavy not in loaded, f"import atoma_integrations imported {heavy}"


def test_the_sync_client_never_imports_aiohttp_or_asyncio() -> None:
    loaded = _modules_after(
        "from atoma_integrations import AtomaClient, CompletionChunk, AtomaError\n"
        "AtomaClient(base_url='http://127.0.0.1:9/v1').close()"
    )
    assert "atoma_integrations._client" in loaded
    assert not {"aiohttp", "httpx_aiohttp"} & loaded
    baseline = _modules_after("import httpx\nfrom pydantic import BaseModel")
    assert "asyncio" not in loaded or "asyncio" in baseline


def test_aiohttp_is_imported_when_an_async_client_is_built() -> None:
    code = (
        "import asyncio, sys\n"
        "from atoma_integrations import AsyncAtomaClient\n"
        "print('aiohttp' in sys.modules)\n"
        "client = AsyncAtomaClient(base_url='http://127.0.0.1:9/v1', max_retries=0)\n"
        "async def main():\n"
        "    try:\n"
        "        await client.models.list()\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__)\n"
        "    await client.aclose()\n"
        "asyncio.run(main())\n"
        "print('aiohttp' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Port 9 (discard) refuses: a typed connection error, through aiohttp, once it is loaded.
    assert completed.stdout.split() == ["False", "APIConnectionError", "True"]
    # -W error: no "Unclosed client session", no ResourceWarning, even at exit.
    assert completed.stderr == ""


def test_every_public_name_is_in_the_lazy_table_and_visible_to_type_checkers() -> None:
    public = set(atoma_integrations.__all__) - {"__version__"}
    assert public == set(atoma_integrations._LAZY)
    source = Path(atoma_integrations.__file__).read_text(encoding="utf-8")
    checked: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                for alias in statement.names:
                    checked.add(alias.name)
                    # Imported for type checkers from where the table loads it at run time.
                    assert atoma_integrations._LAZY[alias.name] == statement.module
    assert checked == public


def test_every_public_name_resolves_and_is_cached() -> None:
    for name in atoma_integrations.__all__:
        value = getattr(atoma_integrations, name)
        assert value is not None
        assert name in vars(atoma_integrations)
        assert name in dir(atoma_integrations)
    try:
        atoma_integrations.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchName" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


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

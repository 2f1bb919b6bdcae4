"""The wheel and the sdist carry the package, its license and nothing else.

Both are built here with hatchling, the build backend pyproject.toml names, without build
isolation (so offline: the backend comes from the test environment, as in CI).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LICENSE_TEXT = (ROOT / "LICENSE").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One wheel and one sdist, built from the working tree."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    return {"wheel": wheels[0], "sdist": sdists[0]}


def test_the_license_is_mit_and_names_the_authors() -> None:
    assert LICENSE_TEXT.startswith("MIT License")
    assert "atoma-integrations developers" in LICENSE_TEXT


def test_the_wheel_holds_the_package_and_the_license_it_names(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = wheel.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(info).decode()
        licenses = [n for n in names if "/licenses/" in n]
        assert [Path(n).name for n in licenses] == ["LICENSE"]
        assert wheel.read(licenses[0]).decode() == LICENSE_TEXT
    assert "License-Expression: MIT" in metadata
    assert "License-File: LICENSE" in metadata
    top = {n.split("/")[0] for n in names}
    assert top == {"atoma_integrations", info.split("/")[0]}
    assert "atoma_integrations/py.typed" in names
    assert "atoma_integrations/_transport.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # Every declared dependency the code imports is in the metadata.
    for requirement in ("httpx", "pydantic", "httpx-aiohttp", "aiohttp", "typing-extensions"):
        assert any(
            line.lower().replace("_", "-").startswith(f"requires-dist: {requirement}")
            for line in metadata.splitlines()
        ), requirement


def test_the_sdist_holds_only_the_package_readme_license_and_metadata(
    dist: dict[str, Path],
) -> None:
    with tarfile.open(dist["sdist"]) as sdist:
        names = sdist.getnames()
        root = names[0].split("/")[0]
        member = sdist.extractfile(f"{root}/LICENSE")
        assert member is not None and member.read().decode() == LICENSE_TEXT
    inside = {n.split("/", 1)[1] for n in names if "/" in n}
    top = {n.split("/")[0] for n in inside}
    # hatchling always ships the root .gitignore in an sdist (it replays VCS exclusions).
    top.discard(".gitignore")
    assert top == {"atoma_integrations", "README.md", "LICENSE", "pyproject.toml", "PKG-INFO"}
    assert "atoma_integrations/py.typed" in inside
    assert not [n for n in inside if "__pycache__" in n or n.endswith(".pyc")]

"""The built wheel works on its own: installed non-editable, run from outside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openapi_spec_validator import validate

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # pip builds in an isolated environment with hatchling (fetched from PyPI or pip's cache)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
                   check=True, capture_output=True, text=True, timeout=240)
    [built] = out.glob("dxconform-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, text=True, timeout=120)
    return target


def _run(installed: Path, *args: str) -> subprocess.CompletedProcess:
    # PYTHONPATH puts the wheel's copy ahead of the editable install; cwd /tmp keeps the checkout out of sight
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([sys.executable, *args], cwd="/tmp", env=env, capture_output=True, text=True,
                          timeout=120)


def test_wheel_carries_the_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "conformance/_data/schemas/routes.json" in names
    assert "conformance/_data/schemas/types/common.json" in names
    assert any(n.startswith("conformance/_data/schemas/methods/") for n in names)
    assert any(n.startswith("conformance/_data/cases/") for n in names)


def test_installed_copy_reads_its_own_data(installed: Path) -> None:
    done = _run(installed, "-c", "import conformance.resources as r; print(r.schemas_dir())")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == installed / "conformance" / "_data" / "schemas"


def test_routes_json_from_the_wheel(installed: Path) -> None:
    done = _run(installed, "-m", "conformance.cli.main", "routes", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 208 and len({r["route"] for r in rows}) == 208


def test_openapi_from_the_wheel(installed: Path) -> None:
    done = _run(installed, "-m", "conformance.cli.main", "openapi")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate(document)
    assert sum(len(item) for item in document["paths"].values()) == 62

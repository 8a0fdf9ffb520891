"""Fixtures for the spec tests: the loaded spec and a scratch copy of schemas/ to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.resources import schemas_dir
from conformance.spec import Spec, load_spec


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec()


@pytest.fixture()
def schemas_copy(tmp_path: Path) -> Path:
    """A private copy of schemas/ that a test may edit (load it with Spec(path), not the cached loader)."""
    target = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), target)
    return target

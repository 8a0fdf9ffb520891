"""The `dx_server` plugin: registered by the package, cheap to load, and leaves dxpy as it found it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import dxpy

from conformance.refserver.pytest_fixture import DXPY_ENVIRONMENT, DXPY_GLOBALS, running_dx_server

ROOT = Path(__file__).resolve().parents[2]


def test_registered_as_a_pytest11_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    plugins = project["project"]["entry-points"]["pytest11"]
    assert plugins == {"dxconform_dx_server": "conformance.refserver.pytest_fixture"}
    assert "docs/examples" in project["tool"]["pytest"]["ini_options"]["testpaths"]


def test_loading_the_plugin_imports_neither_dxpy_nor_the_server():
    probe = ("import sys, conformance.refserver.pytest_fixture; "
             "print(sorted(m for m in ('dxpy', 'uvicorn', 'conformance.refserver.server') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_dxpy_configuration_is_restored(monkeypatch):
    monkeypatch.setenv("DX_APISERVER_HOST", "example.invalid")
    monkeypatch.setenv("DX_PROJECT_CONTEXT_ID", "project-B0000000000000000000000Q")
    monkeypatch.delenv("DX_SECURITY_CONTEXT", raising=False)
    before_env = {name: os.environ.get(name) for name in DXPY_ENVIRONMENT}
    before = {name: getattr(dxpy, name) for name in DXPY_GLOBALS}

    with running_dx_server() as server:
        assert dxpy.APISERVER == server.url
        assert dxpy.WORKSPACE_ID == dxpy.PROJECT_CONTEXT_ID == server.project
        assert os.environ["DX_APISERVER_PORT"] == str(server.port)
        assert dxpy.api.project_describe(server.project)["name"]
        assert dxpy.api.system_whoami(auth=server.auth("bob"))["id"] == "user-bob"

    assert {name: os.environ.get(name) for name in DXPY_ENVIRONMENT} == before_env
    assert {name: getattr(dxpy, name) for name in DXPY_GLOBALS} == before

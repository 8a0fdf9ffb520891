"""Fixtures of the dxpy end-to-end modules (jobs, workflows, apps): a server of the module's own, dxpy pointed
at it, and a fresh project per test. A module binds them by name: `server, dx, project = dxpy_fixtures()`.
Jobs run as real processes, so each module has its own server: its executions never show up in other modules'
searches, and stopping it kills what is left."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from conformance.refserver.pytest_fixture import DXServer, running_dx_server, set_dxpy_project


def _server() -> Iterator[DXServer]:
    with running_dx_server() as running:
        yield running


def _dx(server: DXServer) -> ModuleType:
    import dxpy

    return dxpy


def _project(dx: ModuleType, request: pytest.FixtureRequest) -> str:
    """A fresh project of alice (named after the test module), also dxpy's workspace and project context."""
    project_id = dx.api.project_new({"name": request.module.__name__.rsplit(".", 1)[-1]})["id"]
    set_dxpy_project(dx, project_id)
    return project_id


def dxpy_fixtures():
    """(server, dx, project) fixtures for one module: the module's server, dxpy, a fresh project per test."""
    return (pytest.fixture(scope="module", name="server")(_server), pytest.fixture(name="dx")(_dx),
            pytest.fixture(name="project")(_project))

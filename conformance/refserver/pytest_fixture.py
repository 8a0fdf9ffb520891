"""The `dx_server` pytest fixture: a fresh reference server per test, with dxpy pointed at it and restored after.

Installing dxconform registers this module as a pytest plugin (the `pytest11` entry point), so any test
suite can ask for `dx_server` the way AWS users ask moto for a mock. Loading the plugin costs nothing: the
server, uvicorn and dxpy are imported only when a test uses the fixture.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

# What dxpy reads from the environment at import time (dxpy/utils/config.py) and what the `dx` command line
# reads in a subprocess; all of it is saved before the fixture sets it and put back afterwards.
DXPY_ENVIRONMENT = ("DX_APISERVER_HOST", "DX_APISERVER_PORT", "DX_APISERVER_PROTOCOL", "DX_SECURITY_CONTEXT",
                    "DX_USER_CONF_DIR", "DX_JOB_ID", "DX_WORKSPACE_ID", "DX_PROJECT_CONTEXT_ID",
                    "DX_PROJECT_CONTEXT_NAME", "DX_CLI_WD", "DX_USERNAME")
# dxpy's module-level configuration, as its set_* functions write it.
DXPY_GLOBALS = ("APISERVER_PROTOCOL", "APISERVER_HOST", "APISERVER_PORT", "APISERVER", "SECURITY_CONTEXT",
                "AUTH_HELPER", "JOB_ID", "WORKSPACE_ID", "PROJECT_CONTEXT_ID")
PROJECT_NAME = "dx_server test project"


@dataclass
class DXServer:
    """What a test gets from `dx_server`: where the server is, whose token dxpy uses, the test's project."""

    url: str                        # http://127.0.0.1:PORT
    host: str
    port: int
    user: str                       # the user dxpy acts as: "user-alice"
    token: str                      # that user's token
    project: str                    # a fresh project of that user, also dxpy's workspace and project context
    tokens: dict[str, str] = field(default_factory=dict)   # every user's token: {"alice": ..., "bob": ...}
    server: Any = None              # the conformance.refserver.server.RefServer itself

    def security_context(self, user: str = "alice") -> dict[str, str]:
        """The dxpy security context of a user, e.g. for `dxpy.DXHTTPOAuth2(...)` as bob."""
        return {"auth_token_type": "Bearer", "auth_token": self.tokens[user]}

    def auth(self, user: str):
        """An `auth=` value for a dxpy call made as another user: `dxpy.api.project_describe(p, auth=...)`."""
        import dxpy

        return dxpy.DXHTTPOAuth2(self.security_context(user))


@contextmanager
def saved_environment(names: tuple[str, ...]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def saved_dxpy_configuration() -> Iterator[Any]:
    """dxpy, imported (with the caller's environment, as it would have been) and its configuration saved;
    on exit the saved values are put back, so tests that run later see dxpy as they would have."""
    import dxpy

    saved = {name: getattr(dxpy, name, None) for name in DXPY_GLOBALS}
    try:
        yield dxpy
    finally:
        for name, value in saved.items():
            setattr(dxpy, name, value)


def point_dxpy_at(dxpy: Any, host: str, port: int, security_context: dict[str, str], conf_dir: str) -> None:
    """Environment first (for `dx` subprocesses and code that re-reads it), then dxpy's own setters, because
    dxpy read the environment once, when it was imported."""
    os.environ.update({"DX_APISERVER_HOST": host, "DX_APISERVER_PORT": str(port), "DX_APISERVER_PROTOCOL": "http",
                       "DX_SECURITY_CONTEXT": json.dumps(security_context), "DX_USER_CONF_DIR": conf_dir})
    for name in ("DX_JOB_ID", "DX_WORKSPACE_ID", "DX_PROJECT_CONTEXT_ID", "DX_PROJECT_CONTEXT_NAME", "DX_CLI_WD"):
        os.environ.pop(name, None)
    dxpy.set_api_server_info(host=host, port=str(port), protocol="http")
    dxpy.set_security_context(security_context)
    dxpy.set_job_id(None)


def set_dxpy_project(dxpy: Any, project: str) -> None:
    os.environ["DX_PROJECT_CONTEXT_ID"] = project
    dxpy.set_workspace_id(project)
    dxpy.set_project_context(project)


@contextmanager
def running_dx_server(user: str = "alice") -> Iterator[DXServer]:
    """The whole fixture as a context manager (usable outside pytest): a reference server in memory on a free
    loopback port, dxpy pointed at it as `user` in a fresh project; everything undone on exit."""
    from .server import RefServer

    with (saved_environment(DXPY_ENVIRONMENT), saved_dxpy_configuration() as dxpy,
          tempfile.TemporaryDirectory(prefix="dx-server-conf-") as conf_dir, RefServer() as server):
        tokens = dict(server.settings.users)
        context = {"auth_token_type": "Bearer", "auth_token": tokens[user]}
        point_dxpy_at(dxpy, server.host, server.port, context, conf_dir)
        project = dxpy.api.project_new({"name": PROJECT_NAME})["id"]
        set_dxpy_project(dxpy, project)
        yield DXServer(url=server.url, host=server.host, port=server.port, user=f"user-{user}",
                       token=tokens[user], project=project, tokens=tokens, server=server)


@pytest.fixture
def dx_server() -> Iterator[DXServer]:
    """A local DNAnexus API for this test: dxpy talks to a fresh in-memory reference server as user-alice, in
    a new project that is dxpy's workspace. Stopped, and dxpy's previous configuration restored, afterwards."""
    try:
        import dxpy  # noqa: F401
    except ImportError:
        pytest.fail("the dx_server fixture needs dxpy: pip install 'dxconform[emulator]' (or pip install dxpy)",
                    pytrace=False)
    with running_dx_server() as server:
        yield server

"""Fixtures for the reference server tests: dxpy pointed at the session's server, bulk object creation.

The shared `refserver`, `client` and `project` fixtures live in tests/conftest.py.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import pytest
import requests

from conformance.refserver.server import RefServer

from .job_support import kill_marked, new_marker


@pytest.fixture(scope="session")
def dx(refserver: RefServer) -> Iterator[ModuleType]:
    """dxpy, unmodified, configured to talk to the session's reference server as alice.

    dxpy reads its configuration from the environment at import time, so the environment is set first
    (with an empty config dir, so ~/.dnanexus_config is never read); the set_* calls then cover the case
    where something imported dxpy earlier in this process.
    """
    with tempfile.TemporaryDirectory(prefix="dxconform-dxpy-conf-") as conf_dir, pytest.MonkeyPatch.context() as mp:
        host, port = refserver.host, str(refserver.port)
        context = {"auth_token_type": "Bearer", "auth_token": refserver.token("alice")}
        mp.setenv("DX_APISERVER_HOST", host)
        mp.setenv("DX_APISERVER_PORT", port)
        mp.setenv("DX_APISERVER_PROTOCOL", "http")
        mp.setenv("DX_SECURITY_CONTEXT", json.dumps(context))
        mp.setenv("DX_USER_CONF_DIR", conf_dir)
        mp.delenv("DX_JOB_ID", raising=False)
        mp.delenv("DX_PROJECT_CONTEXT_ID", raising=False)
        import dxpy

        dxpy.set_api_server_info(host=host, port=port, protocol="http")
        dxpy.set_security_context(context)
        yield dxpy


@pytest.fixture()
def dx_project(dx: ModuleType, project: str) -> str:
    """A fresh project of alice that is also dxpy's workspace (the default project of new objects)."""
    dx.set_workspace_id(project)
    dx.set_project_context(project)
    return project


@pytest.fixture()
def auth_as(dx: ModuleType, refserver: RefServer):
    """auth_as('bob') -> an `auth=` value for dxpy calls made as another user, or with a made-up token."""

    def make(user: str | None = None, token: str | None = None):
        return dx.DXHTTPOAuth2({"auth_token_type": "Bearer", "auth_token": token or refserver.token(user)})

    return make


class BulkWriter:
    """Creates many objects fast over plain HTTP (one requests.Session per thread), for paging tests."""

    def __init__(self, url: str, token: str, threads: int = 4):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.threads = threads

    def _post_all(self, path: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        numbered = list(enumerate(bodies))
        chunks = [numbered[i::self.threads] for i in range(self.threads)]

        def run(chunk: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
            out = []
            with requests.Session() as session:
                for index, body in chunk:
                    r = session.post(self.url + path, data=json.dumps(body), headers=self.headers, timeout=30)
                    assert r.status_code == 200, (path, body, r.status_code, r.text[:300])
                    out.append((index, r.json()))
            return out

        with ThreadPoolExecutor(self.threads) as pool:
            answers = dict(pair for part in pool.map(run, chunks) for pair in part)
        return [answers[i] for i in range(len(bodies))]

    def records(self, bodies: list[dict[str, Any]]) -> list[str]:
        """POST /record/new once per body (in parallel); the new IDs in the order of `bodies`."""
        return [answer["id"] for answer in self._post_all("/record/new", bodies)]


@pytest.fixture()
def bulk(refserver: RefServer) -> BulkWriter:
    return BulkWriter(refserver.url, refserver.token("alice"))


@pytest.fixture()
def marker() -> Iterator[str]:
    """A unique marker for the processes a test starts (job_support.new_marker); fails the test if any is left."""
    value = new_marker()
    yield value
    assert not kill_marked(value), "a test left processes behind"

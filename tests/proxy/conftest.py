"""Fixtures for the proxy tests: a reference server (clean or with faults) behind a proxy, and dxpy aimed at it."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from types import ModuleType

import pytest

from conformance.proxy.server import ProxyRun
from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.server import RefServer


@contextlib.contextmanager
def proxied(*faults: str, strict: bool = False) -> Iterator[tuple[RefServer, ProxyRun]]:
    """A fresh reference server (with these deliberate faults and the fixed tokens, alice-token and bob-token)
    and a proxy in front of it."""
    with RefServer(settings=Settings(closing_ms=50, faults=frozenset(faults), users=dict(FIXED_TOKENS))) as server:
        proxy = ProxyRun(server.url, strict=strict).start()
        try:
            yield server, proxy
        finally:
            proxy.stop()
            proxy.traffic.close()


@pytest.fixture()
def proxy_pair() -> Iterator[tuple[RefServer, ProxyRun]]:
    with proxied() as pair:
        yield pair


@contextlib.contextmanager
def dxpy_at(url_host: str, port: int, token: str) -> Iterator[ModuleType]:
    """dxpy, unmodified, talking to host:port with `token`; its previous target is restored afterwards (other
    tests in this process may use dxpy against another server).

    dxpy reads its configuration at import time, so the environment is set before the first import (with an
    empty config dir, so ~/.dnanexus_config is never read); the set_* calls cover an earlier import.
    """
    context = {"auth_token_type": "Bearer", "auth_token": token}
    with tempfile.TemporaryDirectory(prefix="dxconform-dxpy-conf-") as conf_dir, pytest.MonkeyPatch.context() as mp:
        mp.setenv("DX_APISERVER_HOST", url_host)
        mp.setenv("DX_APISERVER_PORT", str(port))
        mp.setenv("DX_APISERVER_PROTOCOL", "http")
        mp.setenv("DX_SECURITY_CONTEXT", json.dumps(context))
        mp.setenv("DX_USER_CONF_DIR", conf_dir)
        mp.delenv("DX_JOB_ID", raising=False)
        mp.delenv("DX_PROJECT_CONTEXT_ID", raising=False)
        import dxpy

        saved = (dxpy.APISERVER_HOST, dxpy.APISERVER_PORT, dxpy.APISERVER_PROTOCOL, dxpy.SECURITY_CONTEXT,
                 dxpy.WORKSPACE_ID, dxpy.PROJECT_CONTEXT_ID)
        dxpy.set_api_server_info(host=url_host, port=str(port), protocol="http")
        dxpy.set_security_context(context)
        try:
            yield dxpy
        finally:
            host, port_, protocol, security, workspace, project = saved
            dxpy.set_api_server_info(host=host, port=port_, protocol=protocol)
            if security is not None:
                dxpy.set_security_context(security)
            dxpy.set_workspace_id(workspace)
            dxpy.set_project_context(project)

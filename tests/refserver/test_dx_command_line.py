"""The `dx` command line (dxpy's, unmodified) against the reference server, as docs/emulator.md says it works."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.refserver.server import RefServer

pytestmark = pytest.mark.e2e


def dx_executable() -> str:
    beside = Path(sys.executable).parent / "dx"
    found = str(beside) if beside.is_file() else shutil.which("dx")
    assert found, "dxpy's `dx` is not installed (pip install '.[test]' or '.[emulator]' brings it)"
    return found


@pytest.fixture()
def dx_cli(refserver: RefServer, tmp_path: Path):
    """dx(*args, token=...) runs the command line in a fresh home against the session's server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DX_")}
    env.update(HOME=str(tmp_path), DX_USER_CONF_DIR=str(tmp_path / ".dnanexus_config"),
               DX_APISERVER_HOST=refserver.host, DX_APISERVER_PORT=str(refserver.port), DX_APISERVER_PROTOCOL="http")
    executable = dx_executable()

    def dx(*args: str, token: str = refserver.token("alice"), project: str | None = None) -> str:
        run_env = dict(env, DX_SECURITY_CONTEXT=json.dumps({"auth_token_type": "Bearer", "auth_token": token}))
        if project:
            run_env["DX_PROJECT_CONTEXT_ID"] = project
        done = subprocess.run([executable, *args], env=run_env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"dx {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}"
        return done.stdout.strip()

    return dx


def test_dx_whoami(dx_cli, refserver):
    assert dx_cli("whoami") == "alice"
    assert dx_cli("whoami", "--id") == "user-alice"
    assert dx_cli("whoami", token=refserver.token("bob")) == "bob"


def test_a_short_session(dx_cli, tmp_path):
    project = dx_cli("new", "project", "dx-cli-session", "--brief")
    (tmp_path / "hello.txt").write_text("hello\n")
    dx_cli("mkdir", "-p", "/data", project=project)
    file_id = dx_cli("upload", "hello.txt", "--path", "/data/", "--brief", "--wait", project=project)
    assert dx_cli("ls", "/data", project=project) == "hello.txt"
    assert dx_cli("cat", "/data/hello.txt", project=project) == "hello"
    dx_cli("tag", file_id, "checked", project=project)
    assert dx_cli("find", "data", "--tag", "checked", "--brief", project=project) == f"{project}:{file_id}"
    assert json.loads(dx_cli("describe", file_id, "--json", project=project))["tags"] == ["checked"]
    # Another user's describe gives only the public fields (users docs).
    assert set(json.loads(dx_cli("api", "user-bob", "describe"))) == {"id", "class", "first", "middle", "last",
                                                                      "handle"}
    dx_cli("rmproject", "-y", project)

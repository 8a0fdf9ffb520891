"""A job's working directory and command: the files, environment and argv of EXECUTABLES-DIGEST 8.2.

HOME is a fresh directory per job holding job_input.json (and, for bash, the input as variables), where the
job writes job_output.json and job_error.json. dxpy inside the job reads DX_APISERVER_*, DX_SECURITY_CONTEXT,
DX_JOB_ID, DX_WORKSPACE_ID and DX_PROJECT_CONTEXT_ID; DX_USER_CONF_DIR points into HOME so that a developer's
~/.dnanexus_config cannot redirect the job. The server's own Python runs python3 jobs (it has dxpy when the
emulator extra is installed) and its bin directory comes first on PATH (dx-jobutil-add-output and friends).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import iospec
from .limits import MAX_JOB_RESULT_BYTES

# Environment variables passed through from the server's own environment (nothing else: no credentials).
PASSED_THROUGH = ("LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")

# bash: the input variables, then the code sourced with -e, then the entry point called if it is a function
# (digest 8.2, templates/bash/basic/src/code.sh). An entry point other than main that is not defined fails.
BASH_LAUNCHER = r"""set -e -o pipefail
cd "$HOME"
source "$HOME/.dx_input_variables"
source "$HOME/.dx_code.sh"
if [ "$(type -t "$DX_ENTRY_POINT")" = function ]; then
  "$DX_ENTRY_POINT"
elif [ "$DX_ENTRY_POINT" != main ]; then
  echo "the entry point $DX_ENTRY_POINT is not a function of the applet's code" >&2
  exit 3
fi
"""
# python3: the code as __main__, then dxpy.run() unless the code ran it itself (as dx-run-app-locally did).
PYTHON_LAUNCHER = """import os, sys
sys.argv = ["code.py"]
_path = os.path.join(os.environ["HOME"], ".dx_code.py")
with open(_path, encoding="utf-8") as _f:
    _code = compile(_f.read(), "code.py", "exec")
exec(_code, {"__name__": "__main__", "__file__": _path})
import dxpy.utils.exec_utils as _exec_utils
if _exec_utils.RUN_COUNT == 0:
    import dxpy
    dxpy.run()
"""


@dataclass
class Prepared:
    argv: list[str]
    cwd: str
    env: dict[str, str]
    log_path: str


def prepare(root: Path, launch: Any) -> Prepared:
    """Write the job's directory under `root` (executions.Launch `launch`) and return how to start it."""
    home = root / launch.job_id
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / ".dnanexus_config").mkdir(mode=0o700, exist_ok=True)
    (home / "in").mkdir(exist_ok=True)
    (home / "out").mkdir(exist_ok=True)
    (home / "job_input.json").write_text(json.dumps(launch.input, indent=2), encoding="utf-8")
    url = urlsplit(launch.api_url)
    bin_dir = os.path.dirname(sys.executable)
    env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    env.update({
        "HOME": str(home), "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "/usr/bin:/bin")]),
        "DX_APISERVER_PROTOCOL": url.scheme or "http", "DX_APISERVER_HOST": url.hostname or "127.0.0.1",
        "DX_APISERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
        "DX_SECURITY_CONTEXT": json.dumps({"auth_token_type": "Bearer", "auth_token": launch.token}),
        "DX_JOB_ID": launch.job_id, "DX_WORKSPACE_ID": launch.workspace,
        "DX_PROJECT_CONTEXT_ID": launch.project, "DX_USER_CONF_DIR": str(home / ".dnanexus_config"),
        "DX_ENTRY_POINT": launch.function, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8",
    })
    if launch.interpreter == "python3":
        (home / ".dx_code.py").write_text(launch.code, encoding="utf-8")
        argv = [sys.executable, "-c", PYTHON_LAUNCHER]
    else:
        (home / ".dx_code.sh").write_text(launch.code, encoding="utf-8")
        (home / ".dx_input_variables").write_text(iospec.bash_variables(launch.input, launch.file_names),
                                                  encoding="utf-8")
        argv = ["bash", "-c", BASH_LAUNCHER]
    return Prepared(argv=argv, cwd=str(home), env=env, log_path=str(root / f"{launch.job_id}.log"))


def read_result(home: Path, name: str) -> tuple[Any, str | None]:
    """(parsed JSON, None), or (None, None) when the file is absent, or (None, problem) when it cannot be used."""
    path = home / name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None, None
    if size > MAX_JOB_RESULT_BYTES:
        return None, f"{name} is larger than the server's limit of {MAX_JOB_RESULT_BYTES} bytes"
    try:
        text = path.read_text(encoding="utf-8")
        return (json.loads(text) if text.strip() else None), None
    except (OSError, ValueError) as exc:
        return None, f"{name} could not be read as JSON ({type(exc).__name__})"


def _message(entry: dict, job_id: str, line: int) -> dict[str, Any]:
    """One line job_process.py logged ({"t", "fd", "line"}) as the platform's log message."""
    fd = entry.get("fd")
    return {"timestamp": entry.get("t"), "source": "SYSTEM" if fd == "system" else "APP",
            "level": {"stdout": "STDOUT", "stderr": "STDERR"}.get(fd, "INFO"), "job": job_id, "line": line,
            "msg": entry.get("line", "")}


def read_log_from(log_path: Path, offset: int, job_id: str, first_line: int = 0,
                  limit: int = 10_000) -> tuple[list[dict[str, Any]], int]:
    """The complete log lines after byte `offset` (at most `limit`) as log messages numbered from
    `first_line`, and the offset after them; a line still being written waits for the next call."""
    out: list[dict[str, Any]] = []
    try:
        with open(log_path, "rb") as fh:
            fh.seek(offset)
            for raw in fh:
                if not raw.endswith(b"\n") or len(out) >= limit:
                    break
                offset += len(raw)
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(entry, dict):
                    out.append(_message(entry, job_id, first_line + len(out)))
    except FileNotFoundError:
        pass
    return out, offset


def read_log(log_path: Path, job_id: str, limit: int = 10_000) -> list[dict[str, Any]]:
    """The job's log as the platform's log messages ({timestamp, source, level, job, line, msg}), first
    `limit` lines; job_process.py writes one JSON line per output line."""
    return read_log_from(log_path, 0, job_id, 0, limit)[0]

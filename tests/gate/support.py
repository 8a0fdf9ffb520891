"""Running dxconform commands in a child process on the tiny case suite, and reading what they wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conformance.refserver.context import TOKEN_PREFIX

from ..pytest_plugin.support import TINY_CASES

# Every token of the embedded server starts with it: no output file may hold one.
EMBEDDED_TOKEN_PREFIX = TOKEN_PREFIX


def dxconform(cwd: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DXCONFORM_", "PYTEST_"))}
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def tiny_run(cwd: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return dxconform(cwd, "run", "--cases", str(TINY_CASES), "--out", str(out), *args)


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def outcomes(out: Path) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in results(out)["results"]}


def assert_no_token_in(paths) -> None:
    for given in map(Path, paths):
        # a directory (such as DIR/badges) is checked file by file
        for path in sorted(p for p in given.rglob("*") if p.is_file()) if given.is_dir() else [given]:
            data = path.read_bytes()
            assert EMBEDDED_TOKEN_PREFIX.encode() not in data, f"an embedded server's token in {path}"

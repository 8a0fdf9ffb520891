"""Running `dxconform run` as a user does (a subprocess, the public options) and reading what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
AREAS = ("url-forms", "json-input", "json-output", "data-types", "auth", "semantics")
OUTCOMES = ("passed", "failed", "unsupported", "skipped", "flaky", "error", "xfailed", "xpassed")
OUTPUT_FILES = ("results.json", "junit.xml", "report.html")


@dataclass
class Run:
    """One finished `dxconform run`: exit code, captured streams, wall time and the out directory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    out: Path
    results: dict[str, Any] | None = field(default=None)

    @property
    def items(self) -> list[dict[str, Any]]:
        return list((self.results or {}).get("results", []))

    def by_outcome(self, outcome: str) -> list[dict[str, Any]]:
        return [r for r in self.items if r.get("outcome") == outcome]

    def ids(self, outcome: str | None = None) -> set[str]:
        return {r["id"] for r in (self.items if outcome is None else self.by_outcome(outcome))}

    def must_failures(self) -> list[dict[str, Any]]:
        return [r for r in self.by_outcome("failed") if r.get("level") == "MUST"]

    def describe(self, limit: int = 15) -> str:
        """A short account of the run for assertion messages."""
        failed = sorted(self.ids("failed"))
        return (f"exit {self.returncode} after {self.seconds:.1f}s; summary "
                f"{(self.results or {}).get('summary')}; failed ({len(failed)}): {failed[:limit]}\n"
                f"stderr tail: {self.stderr[-1500:]}")


def dxconform_run(args: list[str], out: Path, *, timeout: float = 240, cwd: Path | None = None,
                  env: dict[str, str] | None = None, command_name: str = "run") -> Run:
    """`dxconform run ARGS --out OUT` (or another command that runs the suite: `certify`) in a child process;
    results.json is read when the run wrote one."""
    command = [sys.executable, "-m", "conformance.cli.main", command_name, *args, "--out", str(out)]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("DXCONFORM_", "PYTEST_"))}
    child_env.update(env or {})
    started = time.monotonic()
    proc = subprocess.run(command, cwd=cwd or out.parent, env=child_env, capture_output=True, text=True,
                          timeout=timeout)
    run = Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, out)
    results_file = out / "results.json"
    if results_file.is_file():
        run.results = json.loads(results_file.read_text())
    return run


def session_directory(tmp_path_factory: Any) -> Path:
    """A directory of this test session that all its xdist workers find: under xdist each worker has its own base
    temporary directory inside the session's, so their common parent; without xdist, the session's base
    temporary directory (never its parent, which holds the directories of earlier sessions)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_run(tmp_path_factory: Any, name: str, args: list[str], command_name: str = "run") -> Run:
    """`dxconform COMMAND ARGS` (`run`, or `certify`) once per test session under `name`, read by every test
    that asks for it (tests that only look at a run's outputs: verdicts, reports, the catalogue's killers). Under
    xdist the first worker to ask runs it under a lock in the session's shared directory; the others read what it
    left. Tests must not change its out directory."""
    import fcntl

    root = session_directory(tmp_path_factory) / f"shared-run-{name}"
    root.mkdir(parents=True, exist_ok=True)
    record = root / "run.json"
    asked = {"command": command_name, "args": args}
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            run = dxconform_run(args, root / "out", command_name=command_name)
            record.write_text(json.dumps({**asked, "returncode": run.returncode, "stdout": run.stdout,
                                          "stderr": run.stderr, "seconds": run.seconds}))
    saved = json.loads(record.read_text())
    ran = {key: saved.get(key) for key in asked}
    assert ran == asked, f"shared run {name!r} asked for as {asked}, but it ran as {ran}"
    run = Run(saved["returncode"], saved["stdout"], saved["stderr"], saved["seconds"], root / "out")
    results_file = run.out / "results.json"
    if results_file.is_file():
        run.results = json.loads(results_file.read_text())
    return run


def shared_clean_run(tmp_path_factory: Any) -> Run:
    """The session's one clean whole-suite run of the embedded server: `dxconform certify -n 2`, which is
    `dxconform run -n 2` (the same run, the same output files and terminal account) followed by its
    certification bundle (`certification.tar.gz` in the out directory, the verify lines printed last). Tests of
    a run's outputs and tests of a full certification read the same run: the suite runs whole once for both."""
    return shared_run(tmp_path_factory, "clean", ["-n", "2"], command_name="certify")

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
                  env: dict[str, str] | None = None) -> Run:
    """`dxconform run ARGS --out OUT` in a child process; results.json is read when the run wrote one."""
    command = [sys.executable, "-m", "conformance.cli.main", "run", *args, "--out", str(out)]
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


def shared_run(tmp_path_factory: Any, name: str, args: list[str]) -> Run:
    """`dxconform run ARGS` once per test session under `name`, read by every test that asks for it (tests that
    only look at a run's outputs: verdicts, reports, the catalogue's killers). Under xdist the first worker to ask
    runs it under a lock in the session's shared temporary directory; the others read what it left. Tests must
    not change its out directory."""
    import fcntl

    root = tmp_path_factory.getbasetemp().parent / f"shared-run-{name}"
    root.mkdir(parents=True, exist_ok=True)
    record = root / "run.json"
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            run = dxconform_run(args, root / "out")
            record.write_text(json.dumps({"args": args, "returncode": run.returncode, "stdout": run.stdout,
                                          "stderr": run.stderr, "seconds": run.seconds}))
    saved = json.loads(record.read_text())
    assert saved["args"] == args, f"shared run {name!r} asked for with other arguments: {args} != {saved['args']}"
    run = Run(saved["returncode"], saved["stdout"], saved["stderr"], saved["seconds"], root / "out")
    results_file = run.out / "results.json"
    if results_file.is_file():
        run.results = json.loads(results_file.read_text())
    return run


def shared_clean_run(tmp_path_factory: Any) -> Run:
    """The session's one clean whole-suite run of the embedded server (`dxconform run -n 2`)."""
    return shared_run(tmp_path_factory, "clean", ["-n", "2"])

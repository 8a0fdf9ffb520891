"""The sweep: one `dxconform run` per fault (and one clean run) in child processes, a few at a time, judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalogue import Entry
from .judge import Verdict, judge_clean, judge_fault

RUN_TIMEOUT_S = 900.0


@dataclass
class Sweep:
    clean: Verdict | None
    verdicts: list[Verdict]
    seconds: float = 0.0            # wall time of the whole sweep

    @property
    def caught(self) -> int:
        return sum(v.caught for v in self.verdicts)

    @property
    def escaped(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.caught]

    @property
    def ok(self) -> bool:
        return not self.escaped and (self.clean is None or self.clean.caught)

    def to_json(self) -> dict[str, Any]:
        return {"format": "dxconform-selftest/1", "caught": self.caught, "total": len(self.verdicts),
                "seconds": round(self.seconds, 1),
                "clean": self.clean.to_json() if self.clean else None,
                "faults": [v.to_json() for v in self.verdicts]}


def run_suite(out: Path, *, fault: str | None = None, keyword: str | None = None, args: Iterable[str] = (),
              cases: str | None = None, timeout: float = RUN_TIMEOUT_S) -> tuple[int | None, dict | None, float]:
    """`dxconform run` in a child process (embedded server, optionally with a fault and a -k selection):
    (exit code or None on timeout, results.json or None, seconds)."""
    command = [sys.executable, "-m", "conformance.cli.main", "run", "--out", str(out), *args]
    if fault:
        command += ["--embedded-fault", fault]
    if keyword:
        command += ["-k", keyword]
    if cases:
        command += ["--cases", cases]
    # the child reads no token or option of ours from the environment
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DXCONFORM_", "PYTEST_"))}
    started = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=out.parent, env=env, capture_output=True, text=True, timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        code = None
    seconds = time.monotonic() - started
    results = out / "results.json"
    document = json.loads(results.read_text()) if results.is_file() else None
    return code, document, seconds


def clean_keyword(entries: Iterable[Entry]) -> str:
    """The union of the entries' selections: the clean run covers every case their runs cover."""
    return " or ".join(f"({e.keyword})" for e in entries)


def sweep(entries: list[Entry], *, workers: int = 2, whole: bool = False, clean: bool = True,
          out_root: Path | None = None, cases: str | None = None,
          on_verdict: Callable[[Verdict], None] | None = None) -> Sweep:
    """Run the clean server and every entry's fault, `workers` runs at a time; `whole` runs the whole suite
    each time (slow, but the collateral is then measured over everything)."""
    started = time.monotonic()
    root = out_root or Path(tempfile.mkdtemp(prefix="dxconform-selftest-"))
    root.mkdir(parents=True, exist_ok=True)

    def clean_run() -> Verdict:
        code, document, seconds = run_suite(root / "clean", keyword=None if whole else clean_keyword(entries),
                                            cases=cases)
        return judge_clean(code, document, seconds, entries)

    def fault_run(entry: Entry) -> Verdict:
        code, document, seconds = run_suite(root / entry.fault, fault=entry.fault,
                                            keyword=None if whole else entry.keyword, args=entry.args, cases=cases)
        return judge_fault(entry, code, document, seconds)

    def report(verdict: Verdict) -> Verdict:
        if on_verdict:
            on_verdict(verdict)
        return verdict

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        clean_future = pool.submit(lambda: report(clean_run())) if clean else None
        futures = [pool.submit(lambda e=e: report(fault_run(e))) for e in entries]
        verdicts = [f.result() for f in futures]
        clean_verdict = clean_future.result() if clean_future else None
    result = Sweep(clean_verdict, verdicts, time.monotonic() - started)
    (root / "selftest.json").write_text(json.dumps(result.to_json(), indent=1))
    return result


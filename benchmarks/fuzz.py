"""Benchmark of fuzzing throughput: dxconform's fuzzer vs the schemathesis CLI (`st run`), side by side,
on the same OpenAPI export and the same kind of reference server (not a test).

Each tool gets a fresh in-process reference server on loopback (the schemathesis CLI runs as a child). Our fuzzer runs positive and negative
mode over every core route (stateful off, as `st run --phases fuzzing` has none); schemathesis runs its
fuzzing phase, mode all, one worker, no example database. Examples/s = requests sent for generated
examples / wall-clock seconds, setup included for both. Prints the figures and the machine.

    python benchmarks/fuzz.py [--examples 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.fuzz import FuzzConfig, run_fuzz
from conformance.refserver.context import Settings
from conformance.refserver.server import RefServer
from conformance.spec import load_spec
from conformance.spec.openapi import build_openapi

ST_TIMEOUT_S = 1800
ST_CASES = re.compile(r"(\d+)\s+generated", re.IGNORECASE)


def ours(examples: int, seed: int) -> dict:
    with RefServer(settings=Settings(closing_ms=0)) as server:
        started = time.monotonic()
        report = run_fuzz(FuzzConfig(server.url, server.settings.users, examples=examples, seed=seed,
                                     modes=("positive", "negative")))
        seconds = time.monotonic() - started
    return {"tool": "dxconform fuzz", "examples": report.example_total, "requests": report.sent,
            "seconds": round(seconds, 2), "examples_per_s": round(report.example_total / seconds, 1),
            "findings": len(report.findings)}


def schemathesis_cli(examples: int, seed: int) -> dict:
    """`st run` on the export; the number of generated cases is read from its summary line."""
    with RefServer(settings=Settings(closing_ms=0)) as server, tempfile.TemporaryDirectory() as work:
        document = Path(work, "openapi.json")
        document.write_text(json.dumps(build_openapi(load_spec(), server=server.url)))
        command = [str(Path(sys.executable).with_name("schemathesis")), "run", str(document), "--url", server.url,
                   "-H", f"Authorization: Bearer {server.token()}", "--phases", "fuzzing", "--mode", "all",
                   "-n", str(examples), "--seed", str(seed), "--generation-database", "none", "-w", "1"]
        started = time.monotonic()
        finished = subprocess.run(command, capture_output=True, text=True, timeout=ST_TIMEOUT_S, cwd=work,
                                  env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"})
        seconds = time.monotonic() - started
    match = ST_CASES.search(finished.stdout)
    if match is None:
        raise SystemExit(f"could not read the number of generated cases from st run:\n{finished.stdout[-2000:]}")
    cases = int(match.group(1))
    return {"tool": "schemathesis CLI (st run)", "examples": cases,
            "seconds": round(seconds, 2), "examples_per_s": round(cases / seconds, 1),
            "exit_code": finished.returncode, "summary": _summary(finished.stdout)}


def _summary(stdout: str) -> str:
    lines = [line.strip() for line in stdout.splitlines() if "generated" in line or "passed" in line]
    return " | ".join(lines[-3:])


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} " \
           f"{platform.release()}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=8, help="examples per route (and per mode for ours)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows = (ours(args.examples, args.seed), schemathesis_cli(args.examples, args.seed))
    for row in rows:
        print(json.dumps(row))
    ratio = rows[0]["examples_per_s"] / rows[1]["examples_per_s"]
    print(f"ratio: {ratio:.2f}x the examples/s of the schemathesis CLI (target >= 1: "
          f"{'MET' if ratio >= 1 else 'NOT MET'})")
    return 0 if ratio >= 1 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of parallel runs on a slow server: `dxconform run -n 8` vs serial, side by side (not a test).

Starts `dxconform serve --latency-ms 50` (every answer delayed by 50 ms, as a remote server would be; the
delay is an asyncio sleep, so concurrent requests wait side by side) as a child process on 127.0.0.1, runs
the suite against it serially and with N xdist workers, each a fresh `dxconform run --server URL` child,
and prints both wall times, their outcome counts and the speed-up (target >= 5x for -n 8).

    python benchmarks/parallel.py [--latency-ms 50] [--workers 8] [-k EXPR]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from launch import start_listening  # noqa: E402
from machine import machine  # noqa: E402
from overhead import case_outcomes  # noqa: E402

TARGET_SPEEDUP = 5.0
CLI = [sys.executable, "-m", "conformance.cli.main"]


def start_server(latency_ms: int) -> tuple[subprocess.Popen, str]:
    return start_listening(CLI + ["serve", "--host", "127.0.0.1", "--port", "0", "--latency-ms", str(latency_ms),
                                  "--fixed-tokens"], "the reference server")


def timed_run(url: str, workers: int, out: Path, keyword: str | None) -> tuple[float, dict, int]:
    """(wall seconds, results summary, requests counted by the ledger) of one `dxconform run` child."""
    command = CLI + ["run", "--server", url, "--token", "alice-token", "--token2", "bob-token", "--out", str(out),
                     "--reruns", "0", "-n", str(workers)]
    if keyword:
        command += ["-k", keyword]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DXCONFORM_", "PYTEST_"))}
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=out.parent, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    if finished.returncode not in (0, 1):
        raise SystemExit(f"dxconform run -n {workers} failed (exit {finished.returncode}):\n"
                         f"{finished.stderr[-3000:]}")
    return seconds, case_outcomes(out / "results.json"), finished.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=50, help="delay of every answer (default 50)")
    parser.add_argument("--workers", type=int, default=8, help="xdist workers of the parallel run (default 8)")
    parser.add_argument("-k", dest="keyword", help="only cases matching this pytest -k expression")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    server, url = start_server(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory(prefix="dxconform-parallel-") as tmp:
            parallel = timed_run(url, args.workers, Path(tmp, "parallel"), args.keyword)
            serial = timed_run(url, 0, Path(tmp, "serial"), args.keyword)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"server: dxconform serve --latency-ms {args.latency_ms} (a child process)")
    print(f"serial:      {serial[0]:7.1f} s  exit {serial[2]}  {serial[1]}")
    print(f"-n {args.workers:<2}:      {parallel[0]:7.1f} s  exit {parallel[2]}  {parallel[1]}")
    speedup = serial[0] / parallel[0]
    met = speedup >= TARGET_SPEEDUP
    print(f"speed-up: {speedup:.2f}x (target >= {TARGET_SPEEDUP:g}x for -n 8: {'MET' if met else 'NOT MET'})")
    if serial[1] != parallel[1]:
        print("note: the two runs ended with different outcome counts (see above)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the suite's overhead: `dxconform run` on the embedded server vs a raw requests loop replaying
the same exchanges (same order, same bodies) on a fresh reference server, side by side (not a test).

1. `dxconform run` (the whole suite, in process, serial, --reruns 0) in a child process, timed from outside:
   interpreter start, imports, case loading, pytest, checks, reports, everything. The child records every
   request the suite's Transport sends (method, URL, headers, body, status, answer) and every deliberate wait
   of an `eventually` step (the suite waiting for the server's state to change, which is the server's time).
2. A fresh reference server in this process (as the embedded one is in the run's process) and one
   requests.Session replaying the recording: each request as recorded, after the recorded wait, with the IDs
   and URLs the new server hands out put in place of the recorded ones (mapped from answer to answer).

Overhead = suite wall time / replay wall time (target <= 1.3x). The replay's fidelity (same status code as
recorded) is printed too: a replay that mostly failed would be faster for the wrong reason.

    python benchmarks/overhead.py [--repeat 1] [-k EXPR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import machine  # noqa: E402
from replay import T0_ENV, Recording, replay  # noqa: E402

TARGET_RATIO = 1.3


def timed_run(work: Path, keyword: str | None, record_to: Path | None) -> tuple[float, int, dict]:
    """(wall seconds, exit code, summary) of one `dxconform run` child; recording when `record_to` is set."""
    out = work / ("out-recorded" if record_to else "out")
    command = [sys.executable, str(Path(__file__).with_name("replay.py")), "--out", str(out)]
    if record_to:
        command += ["--record", str(record_to)]
    if keyword:
        command += ["-k", keyword]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DXCONFORM_", "PYTEST_"))}
    env[T0_ENV] = repr(time.time())
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    if finished.returncode not in (0, 1):
        raise SystemExit(f"dxconform run failed (exit {finished.returncode}):\n{finished.stderr[-3000:]}")
    return seconds, finished.returncode, case_outcomes(out / "results.json")


def case_outcomes(results_file: Path) -> dict[str, int]:
    """Outcome counts of the cases (results.json's summary counts the per-check results too)."""
    counts = Counter(r["outcome"] for r in json.loads(results_file.read_text())["results"] if r.get("kind") == "case")
    return dict(sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="suite runs and replays to time (default 1; "
                        "the best of each is compared)")
    parser.add_argument("-k", dest="keyword", help="only cases matching this pytest -k expression")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="dxconform-overhead-") as tmp:
        work = Path(tmp)
        recording_file = work / "exchanges.jsonl"
        recorded_seconds, _, summary = timed_run(work, args.keyword, recording_file)
        recording = Recording.read(recording_file)
        suite_times = [timed_run(work, args.keyword, None)[0] for _ in range(args.repeat)]
        replays = [replay(recording) for _ in range(args.repeat)]
    suite, best = min(suite_times), min(replays, key=lambda r: r.seconds)
    print(f"suite:  {suite:7.2f} s  `dxconform run` wall time, {len(recording.exchanges)} requests, cases "
          f"{summary} (the recording run took {recorded_seconds:.2f} s)")
    print(f"        of which {recording.before_first:.2f} s before the first request (start-up, case loading, "
          f"collection), {recording.span:.2f} s from the first to the last, and "
          f"{recorded_seconds - recording.before_first - recording.span:.2f} s after it (reports, exit)")
    print(f"replay: {best.seconds:7.2f} s  raw requests loop, {best.sent} requests, of which "
          f"{best.waited:.2f} s the suite's recorded waits; same status as recorded: "
          f"{best.same_status}/{best.sent} ({100 * best.same_status / max(best.sent, 1):.1f} %)")
    ratio = suite / best.seconds
    print(f"overhead: {ratio:.2f}x the raw loop (target <= {TARGET_RATIO}x: {'MET' if ratio <= TARGET_RATIO else 'NOT MET'}); "
          f"while requests flow: {recording.span / best.seconds:.2f}x")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the suite's overhead: `dxconform run` on its embedded server vs a raw urllib3 replay of the
very same exchanges on the same kind of server, both whole child processes timed from outside (not a test).

Each repeat is a pair of cold child processes, one after the other on the same machine:

1. the suite: `dxconform run --reruns 0` (the whole suite, serial, the embedded reference server started in
   the suite's process, as `dxconform run` starts it), run through benchmarks/replay.py's `record`, which keeps every request the suite's
   Transport sends and every wait of an `eventually` step in memory (a few microseconds per request) and
   writes them out once the run has ended: interpreter start, imports, case loading, server start, pytest,
   checks, reports, the recording's dump and exit (as the `dxconform` command ends) are all in its wall time;
2. the raw replay of that run's recording (benchmarks/replay.py's `replay`): interpreter start, imports of
   what it needs (urllib3, the reference server), the reference server started in the replay's process, one
   urllib3 PoolManager (the suite's own HTTP client) sending each recorded request in order after the recorded
   wait (with the IDs and URLs
   the new server hands out put in place of the recorded ones), exit.

A replay can only follow the run it replays (it needs its exchanges and its waits, which depend on how
long the server took to finish its jobs in that very run); the pairs run one after the other, so the sides
alternate: suite, replay, suite, replay. Overhead = suite wall / replay wall of the same pair; the median pair
(the lower middle one for an even count) is the figure, and every pair is printed. The replay's fidelity (same status as recorded) is printed too:
a replay that mostly failed would be faster for the wrong reason.

    python benchmarks/overhead.py [--repeat 5] [-k EXPR] [--record]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures  # noqa: E402
from launch import clean_env, run_timed  # noqa: E402
from machine import machine  # noqa: E402
from replay import T0_ENV, Recording, write_plan  # noqa: E402

TARGET_RATIO = 1.25
RUN_TIMEOUT_S = 1800
REPLAY_SCRIPT = str(Path(__file__).with_name("replay.py"))


@dataclass
class Timed:
    """One child process timed from outside: wall seconds from just before its start to its exit, and
    its own CPU seconds (user + system, from wait4)."""

    wall: float
    cpu: float
    code: int
    t0: float
    stdout: str
    marks: dict = field(default_factory=dict)


def timed_child(command: list[str], work: Path, name: str) -> Timed:
    """Run `command` cold in `work`, its output in files (never a full pipe), timed from outside."""
    t0 = time.time()
    done = run_timed(command, work, name, clean_env(**{T0_ENV: repr(t0)}))
    if done.code not in (0, 1):
        raise SystemExit(f"{' '.join(command[1:3])} failed (exit {done.code}):\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return Timed(wall=done.wall, cpu=done.cpu, code=done.code, t0=t0, stdout=done.stdout)


def suite_run(work: Path, index: int, keyword: str | None) -> tuple[Timed, Recording, dict]:
    recording_file = work / f"exchanges-{index}.pickle"
    out = work / f"out-{index}"
    command = [sys.executable, REPLAY_SCRIPT, "record", str(recording_file), "--out", str(out)]
    if keyword:
        command += ["-k", keyword]
    timed = timed_child(command, work, f"suite-{index}")
    return timed, Recording.read(recording_file), case_outcomes(out / "results.json")


def replay_run(work: Path, index: int, recording: Recording) -> Timed:
    plan = write_plan(recording, work / f"plan-{index}.pickle")   # before the clock starts
    timed = timed_child([sys.executable, REPLAY_SCRIPT, "replay", str(plan)], work, f"replay-{index}")
    timed.marks = json.loads(timed.stdout.strip().splitlines()[-1])
    return timed


def case_outcomes(results_file: Path) -> dict[str, int]:
    """Outcome counts of the cases (results.json's summary counts the per-check results too)."""
    counts = Counter(r["outcome"] for r in json.loads(results_file.read_text())["results"] if r.get("kind") == "case")
    return dict(sorted(counts.items()))


def suite_breakdown(timed: Timed, recording: Recording) -> dict[str, float]:
    return {"wall": timed.wall, "cpu": timed.cpu,
            "before_first_request": recording.before_first,
            "first_to_last_request": recording.span,
            "of_which_waits": recording.waited,
            "after_last_request": timed.wall - recording.before_first - recording.span,
            "of_which_reports": (recording.returned or recording.last_answer) - recording.last_answer,
            "of_which_exit": timed.t0 + timed.wall - (recording.returned or recording.last_answer)}


def replay_breakdown(timed: Timed) -> dict[str, float]:
    marks = timed.marks
    return {"wall": timed.wall, "cpu": timed.cpu,
            "start_and_imports": marks["imported"] - timed.t0,
            "reading_the_plan": marks["plan_read"] - marks["imported"],
            "server_start": marks["server_started"] - marks["plan_read"],
            "loop": marks["loop"], "of_which_waits": marks["waited"], "of_which_http": marks["http"],
            "of_which_bookkeeping": marks["loop"] - marks["waited"] - marks["http"],
            "server_stop_and_exit": timed.wall - (marks["loop_done"] - timed.t0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5,
                        help="pairs (suite run, its replay) to time, one after the other (default 5; the median "
                             "pair's ratio is the figure: on a shared machine one pair's ratio moved by a tenth)")
    parser.add_argument("-k", dest="keyword", help="only cases matching this pytest -k expression")
    figures.add_record_option(parser)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    pairs = []
    with tempfile.TemporaryDirectory(prefix="dxconform-overhead-") as tmp:
        work = Path(tmp)
        for index in range(args.repeat):
            suite, recording, outcomes = suite_run(work, index, args.keyword)
            replay = replay_run(work, index, recording)
            pair = {"suite": suite_breakdown(suite, recording), "replay": replay_breakdown(replay),
                    "requests": len(recording.exchanges), "replayed": replay.marks["sent"],
                    "same_status": replay.marks["same_status"], "cases": outcomes,
                    "ratio": suite.wall / replay.wall}
            pairs.append(pair)
            print(f"pair {index + 1}: suite {suite.wall:6.2f} s (CPU {suite.cpu:5.2f} s), replay {replay.wall:6.2f} s "
                  f"(CPU {replay.cpu:5.2f} s), waits {recording.waited:5.2f} s, {len(recording.exchanges)} "
                  f"requests: {pair['ratio']:.3f}x", flush=True)
    median = sorted(pairs, key=lambda p: p["ratio"])[(len(pairs) - 1) // 2]     # the lower middle pair
    s, r = median["suite"], median["replay"]
    ratio = median["ratio"]
    met = ratio <= TARGET_RATIO
    every = ", ".join(f"{p['ratio']:.3f}x" for p in pairs)
    print(f"suite:  {s['wall']:7.2f} s wall, {s['cpu']:6.2f} s CPU: `dxconform run --reruns 0`, {median['requests']} "
          f"requests, cases {median['cases']}")
    print(f"        {s['before_first_request']:.2f} s to the first request (interpreter, imports, case loading, "
          f"server start; the first request is the profile probe), {s['first_to_last_request']:.2f} s from "
          f"the first request to the last answer (of which {s['of_which_waits']:.2f} s recorded waits), "
          f"{s['after_last_request']:.2f} s after "
          f"it ({s['of_which_reports']:.2f} s results.json, junit.xml, report.html, badges, server stop; "
          f"{s['of_which_exit']:.2f} s the recording's dump and exit)")
    print(f"replay: {r['wall']:7.2f} s wall, {r['cpu']:6.2f} s CPU: raw urllib3 replay of the same "
          f"{median['replayed']} requests; same status as recorded: {median['same_status']}/{median['replayed']} "
          f"({100 * median['same_status'] / max(median['replayed'], 1):.1f} %)")
    print(f"        {r['start_and_imports']:.2f} s interpreter and imports, {r['reading_the_plan']:.2f} s reading "
          f"the plan, {r['server_start']:.2f} s server start, {r['loop']:.2f} s loop (of which "
          f"{r['of_which_waits']:.2f} s recorded waits, {r['of_which_http']:.2f} s HTTP, "
          f"{r['of_which_bookkeeping']:.2f} s ID mapping), {r['server_stop_and_exit']:.2f} s server stop and exit")
    print(f"overhead: {ratio:.3f}x the raw replay (target <= {TARGET_RATIO:g}x: {'MET' if met else 'NOT MET'}); "
          f"all pairs: {every}; without the waits on both sides: "
          f"{(s['wall'] - s['of_which_waits']) / (r['wall'] - r['of_which_waits']):.2f}x")
    rows = [["wall time (whole process, from outside)", round(s["wall"], 2), round(r["wall"], 2)],
            ["CPU time (user + system)", round(s["cpu"], 2), round(r["cpu"], 2)],
            ["start: interpreter, imports, case loading, server start (to the first request)",
             round(s["before_first_request"], 2),
             round(r["start_and_imports"] + r["reading_the_plan"] + r["server_start"], 2)],
            ["first request to last answer", round(s["first_to_last_request"], 2), round(r["loop"], 2)],
            ["of which recorded `eventually` waits", round(s["of_which_waits"], 2), round(r["of_which_waits"], 2)],
            ["after the last answer: reports, exit", round(s["after_last_request"], 2),
             round(r["server_stop_and_exit"], 2)]]
    item = figures.entry(
        "overhead", "Suite overhead", target=f"<= {TARGET_RATIO:g}x a raw replay of its own exchanges",
        measured=f"{ratio:.2f}x ({s['wall']:.1f} s vs {r['wall']:.1f} s)", met=met,
        tables=[figures.table(f"`dxconform run` (whole suite, serial, embedded server) and the raw urllib3 replay "
                              f"of its {median['requests']} exchanges, seconds (the median of {len(pairs)} pairs)",
                              ["", "dxconform run", "raw replay"], rows)],
        raw={"repeat": args.repeat, "keyword": args.keyword, "ratio": round(ratio, 4),
             "median_ratio": round(statistics.median(p["ratio"] for p in pairs), 4),
             "pairs": [_rounded(p) for p in pairs]},
        notes=[f"Replay fidelity: {median['same_status']} of {median['replayed']} answers had the recorded status.",
               f"Every pair: {every}."])
    figures.finish(item, args.record)
    return 0 if met else 1


def _rounded(value):
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


if __name__ == "__main__":
    sys.exit(main())

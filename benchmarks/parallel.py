"""Benchmark of parallel runs on a slow server: `dxconform run -n 8` vs serial, side by side (not a test).

Each run gets a fresh `dxconform serve --latency-ms 50 --fixed-tokens` child on 127.0.0.1 (every answer
delayed by 50 ms, as a remote server's would be; the delay is an asyncio sleep, so concurrent requests wait
side by side), started before the clock starts and stopped after it. The run itself is a cold child process
timed from outside (interpreter start, imports, case loading, the workers' start, pytest, reports, exit):
`dxconform run --server URL --token alice-token --token2 bob-token --reruns 0 -n N`, N = 0 (serial) and 8.
When repeated, the order alternates. Printed: the machine, both wall and CPU times, the outcome counts and
the speed-up (target >= 6x for -n 8).

    python benchmarks/parallel.py [--latency-ms 50] [--workers 8] [--repeat 1] [-k EXPR] [--record]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures  # noqa: E402
from launch import clean_env, run_timed, start_listening, stop  # noqa: E402
from machine import machine  # noqa: E402
from overhead import case_outcomes  # noqa: E402

TARGET_SPEEDUP = 6.0
RUN_TIMEOUT_S = 3600
CLI = [sys.executable, "-m", "conformance.cli.main"]


def start_server(latency_ms: int) -> tuple[subprocess.Popen, str]:
    return start_listening(CLI + ["serve", "--host", "127.0.0.1", "--port", "0", "--latency-ms", str(latency_ms),
                                  "--fixed-tokens"], "the reference server")


def timed_run(latency_ms: int, workers: int, out: Path, keyword: str | None) -> dict:
    """One `dxconform run` child against a fresh server: wall and CPU seconds (from outside), outcomes."""
    server, url = start_server(latency_ms)
    try:
        command = CLI + ["run", "--server", url, "--token", "alice-token", "--token2", "bob-token", "--out",
                         str(out), "--reruns", "0", "-q", "-n", str(workers)]
        if keyword:
            command += ["-k", keyword]
        out.mkdir(parents=True, exist_ok=True)
        done = run_timed(command, out.parent, out.name, clean_env())
    finally:
        stop(server)
    if done.code not in (0, 1):
        raise SystemExit(f"dxconform run -n {workers} failed (exit {done.code}):\n{done.stdout[-2000:]}"
                         f"{done.stderr[-3000:]}")
    document = json.loads((out / "results.json").read_text())
    cases = [r for r in document["results"] if r.get("kind") == "case"]
    return {"workers": workers, "seconds": round(done.wall, 2), "cpu": round(done.cpu, 2),
            "exit_code": done.code, "cases": case_outcomes(out / "results.json"),
            "in_pytest": round((document["finished"] - document["started"]) / 1000, 2),
            "case_seconds": round(sum(r["duration_ms"] for r in cases) / 1000, 2),
            "longest_case": round(max((r["duration_ms"] for r in cases), default=0) / 1000, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=50, help="delay of every answer (default 50)")
    parser.add_argument("--workers", type=int, default=8, help="xdist workers of the parallel run (default 8)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side, alternating (default 1; the "
                        "best of each is compared)")
    parser.add_argument("-k", dest="keyword", help="only cases matching this pytest -k expression")
    figures.add_record_option(parser)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    runs: dict[int, list[dict]] = {0: [], args.workers: []}
    with tempfile.TemporaryDirectory(prefix="dxconform-parallel-") as tmp:
        for index in range(args.repeat):
            order = (args.workers, 0) if index % 2 == 0 else (0, args.workers)
            for workers in order:
                run = timed_run(args.latency_ms, workers, Path(tmp, f"n{workers}-{index}"), args.keyword)
                runs[workers].append(run)
                print(json.dumps(run), flush=True)
    serial = min(runs[0], key=lambda r: r["seconds"])
    parallel = min(runs[args.workers], key=lambda r: r["seconds"])
    speedup = serial["seconds"] / parallel["seconds"]
    met = speedup >= TARGET_SPEEDUP
    print(f"server: dxconform serve --latency-ms {args.latency_ms} (a fresh child process for each run)")
    for label, run in (("serial", serial), (f"-n {args.workers}", parallel)):
        print(f"{label:8} {run['seconds']:8.1f} s wall, {run['cpu']:6.1f} s CPU, {run['in_pytest']:7.1f} s in pytest, "
              f"cases' own time {run['case_seconds']:7.1f} s (longest {run['longest_case']:.1f} s), exit "
              f"{run['exit_code']}  {run['cases']}")
    print(f"speed-up: {speedup:.2f}x (target >= {TARGET_SPEEDUP:g}x for -n 8: {'MET' if met else 'NOT MET'})")
    notes = [f"Each run against a fresh `dxconform serve --latency-ms {args.latency_ms}`; best of {args.repeat} "
             "run(s) per side, alternating."]
    if serial["cases"] != parallel["cases"]:
        notes.append("The two runs ended with different outcome counts (see the table).")
        print("note: the two runs ended with different outcome counts (see above)")
    rows = [[label, run["seconds"], run["cpu"], run["in_pytest"], run["case_seconds"], run["longest_case"],
             ", ".join(f"{count} {outcome}" for outcome, count in run["cases"].items())]
            for label, run in (("serial", serial), (f"-n {args.workers}", parallel))]
    item = figures.entry(
        "parallel", "Parallelism", target=f">= {TARGET_SPEEDUP:g}x faster with -n 8 than serial, "
                                          f"{args.latency_ms} ms latency on every answer",
        measured=f"{speedup:.2f}x ({serial['seconds']:.1f} s vs {parallel['seconds']:.1f} s)", met=met,
        tables=[figures.table("`dxconform run --server URL --reruns 0`, seconds",
                              ["run", "wall", "CPU", "in pytest", "cases' own time", "longest case", "cases"], rows)],
        raw={"latency_ms": args.latency_ms, "workers": args.workers, "repeat": args.repeat, "keyword": args.keyword,
             "speedup": round(speedup, 3), "runs": {str(k): v for k, v in runs.items()}},
        notes=notes)
    figures.finish(item, args.record)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

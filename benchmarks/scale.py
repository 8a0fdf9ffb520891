"""Benchmark of how a run's cost grows with its size: cases x1/x5/x10 and a fuzzing budget x1/x10 (not a test).

Cases: the shipped suite (cases/) copied N times into a temporary directory, copy k as copy-k/ with every case
id suffixed `-c<k>` (the id of each item of a file's `cases` list, found on the YAML nodes; the uids differ by
file anyway, the suffix keeps the objects each copy names with {case_id} apart), run with `dxconform run
--cases DIR --reruns 0` against the embedded server. Fuzzing: `dxconform run --fuzz-only --fuzz-examples N`
at the recommended budget and at ten times it. Each run is one child process, timed from outside (wall
time) with the RSS of its whole process tree (the child and any process it starts) polled every 50 ms
(psutil): the peak is the largest sum seen. Per unit: per case item of results.json (a for_each case counts
once per route) and per fuzzed request (the sum of the fuzz items' `fuzz.sent` in results.json). The
outputs' sizes: results.json, report.html, junit.xml.

Targets (issue 21): x10 cases cost at most 11x the wall time and 3x the peak RSS of x1; results.json and
report.html grow at most linearly (at most 10x); report.html stays within issue 16's budget at every size
(300 KB for a clean run, 1 MB for a run with failures: a case may fail under load, --reruns 0).

    python benchmarks/scale.py [--factors 1 5 10] [--base-runs 3] [--fuzz-examples 8] [--fuzz-factors 1 10] [-k EXPR]
                               [--no-fuzz]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures  # noqa: E402
from launch import clean_env  # noqa: E402
from machine import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
WALL_RATIO, RSS_RATIO = 11.0, 3.0
CLEAN_REPORT_BUDGET = 300 * 1024      # issue 16: report.html of a clean run
FAILING_REPORT_BUDGET = 1024 * 1024   # and of a run with many failures
OUTPUTS = ("results.json", "report.html", "junit.xml")
POLL_SECONDS = 0.05
TREE_NOTE = ("Peak RSS is the largest sum, polled every 50 ms, of the RSS of the run's process and of every process "
             "it starts (the embedded server's job shepherds and jobs), leaving out a child that has not called exec "
             "yet: it shares its parent's pages, and counting it counted the run twice. \"Of it the run process\": "
             "the largest RSS of the `dxconform run` process alone.")
def _case_id_spans(text: str) -> list[tuple[int, int, int]]:
    """(line, start column, end column) of every case id of a case file (the `id` of each item of its top-level
    `cases` list; not the ids of stages or objects inside steps), found on the YAML nodes."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    spans = []
    for key, value in root.value if isinstance(root, yaml.MappingNode) else []:
        if key.value != "cases" or not isinstance(value, yaml.SequenceNode):
            continue
        for item in value.value:
            for field, node in item.value if isinstance(item, yaml.MappingNode) else []:
                if field.value == "id" and isinstance(node, yaml.ScalarNode):
                    spans.append((node.start_mark.line, node.start_mark.column, node.end_mark.column))
    return spans


def with_suffix(text: str, suffix: str) -> str:
    """The case file with every case id suffixed."""
    lines = text.splitlines(keepends=True)
    for line, start, end in _case_id_spans(text):
        scalar = lines[line][start:end]
        quote = scalar[0] if scalar[:1] in ("'", '"') else ""
        bare = scalar.strip(quote) if quote else scalar
        lines[line] = lines[line][:start] + f"{quote}{bare}{suffix}{quote}" + lines[line][end:]
    return "".join(lines)


def copy_suite(dest: Path, factor: int) -> None:
    """`factor` copies of cases/ under dest/copy-<k>/, each case id suffixed -c<k>."""
    for k in range(factor):
        for source in CASES.rglob("*"):
            target = dest / f"copy-{k}" / source.relative_to(CASES)
            if source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif source.suffix in (".yaml", ".yml"):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(with_suffix(source.read_text(), f"-c{k}"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)


class TreeRss:
    """Polls the summed RSS of a process and its descendants until stopped; `peak` is the largest sum, `own` the
    largest RSS of the process itself.

    A child that has not yet called exec (its command line is its parent's) is left out of the sum: between
    fork (or vfork) and exec it shares its parent's pages (vfork: the very same memory), so adding its RSS
    would count the parent twice. The run starts such children for every job of the embedded server (each
    through a shepherd process): counted, a poll that fell between a fork and its exec added a whole second
    copy of the run to the peak (about 190 MiB in a run of the suite at x1)."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak = 0
        self.own = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                own = self.root.memory_info().rss
                total = own + sum(_rss_unless_copy(proc) for proc in self.root.children(recursive=True))
            except psutil.NoSuchProcess:
                return
            self.peak = max(self.peak, total)
            self.own = max(self.own, own)
            self._stop.wait(POLL_SECONDS)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _rss_unless_copy(proc: psutil.Process) -> int:
    """The process's RSS, or 0 if it is gone or is a copy of its parent that has not called exec yet."""
    try:
        parent = proc.parent()
        if parent is not None and proc.cmdline() == parent.cmdline():
            return 0
        return proc.memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0


def median_run(tries: list[dict]) -> dict:
    """One run's record standing for several runs of the same suite: the median wall time and the median peak
    RSS (each its own median), the rest from the run of median wall time; every try is kept under `tries`."""
    ordered = sorted(tries, key=lambda run: run["seconds"])
    run = dict(ordered[len(ordered) // 2])
    if len(tries) > 1:
        for key in ("peak_rss", "peak_rss_run_process"):
            run[key] = sorted(t[key] for t in tries)[len(tries) // 2]
        run["tries"] = [{k: t[k] for k in ("seconds", "peak_rss", "peak_rss_run_process", "failed")} for t in tries]
    return run


def measured_run(arguments: list[str], out: Path, timeout: float) -> dict:
    """One `dxconform run` child: wall seconds, peak tree RSS (bytes), exit code, output sizes, results."""
    command = [sys.executable, "-m", "conformance.cli.main", "run", "--out", str(out), "--reruns", "0", "-q",
               *arguments]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rss = TreeRss(proc.pid)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{' '.join(command)} took over {timeout} s") from None
    finally:   # never left running: a timeout, Ctrl-C
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    seconds = time.perf_counter() - started
    peak = rss.stop()
    if proc.returncode not in (0, 1) or not (out / "results.json").exists():
        raise SystemExit(f"dxconform run failed (exit {proc.returncode}):\n{output[-3000:]}")
    results = json.loads((out / "results.json").read_text())
    return {"seconds": round(seconds, 2), "peak_rss": peak, "peak_rss_run_process": rss.own, "exit": proc.returncode,
            "sizes": {name: (out / name).stat().st_size if (out / name).exists() else 0 for name in OUTPUTS},
            "cases": sum(1 for r in results["results"] if r.get("kind", "case") == "case"),
            "failed": results["summary"].get("failed", 0) + results["summary"].get("error", 0),
            "fuzzed": fuzzed(results["results"])}


def fuzzed(results: list[dict]) -> dict[str, int]:
    """What the fuzz items of a run record: generated examples and requests sent (each item's `fuzz`)."""
    items = [r["fuzz"] for r in results if isinstance(r.get("fuzz"), dict)]
    return {"items": len(items), "examples": sum(int(f.get("examples") or 0) for f in items),
            "sent": sum(int(f.get("sent") or 0) for f in items)}


def report_budget(failed: int) -> int:
    return CLEAN_REPORT_BUDGET if failed == 0 else FAILING_REPORT_BUDGET


def mib(value: int) -> float:
    return round(value / 2**20, 1)


def kib(value: int) -> float:
    return round(value / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 5, 10], help="copies of the suite (1 5 10)")
    parser.add_argument("--fuzz-examples", type=int, default=8, help="the x1 fuzzing budget (default 8)")
    parser.add_argument("--fuzz-factors", type=int, nargs="+", default=[1, 10], help="fuzz budgets (1 10)")
    parser.add_argument("--no-fuzz", action="store_true", help="cases only")
    parser.add_argument("-k", dest="keyword", help="only cases matching this -k expression (a quick subset)")
    parser.add_argument("--keep", action="store_true", help="keep the generated suites and outputs")
    parser.add_argument("--base-runs", type=int, default=3,
                        help="runs of the smallest factor, whose median is the base of the ratios (default 3)")
    figures.add_record_option(parser)
    args = parser.parse_args(argv)
    factors = sorted(set(args.factors))
    if factors[0] != 1:
        parser.error("--factors must include 1 (the ratios are against it)")
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="dxconform-scale-"))
    runs: dict[int, dict] = {}
    fuzz_runs: dict[int, dict] = {}
    try:
        for factor in factors:
            suite = work / f"cases-x{factor}"
            copy_suite(suite, factor)
            arguments = ["--cases", str(suite)] + (["-k", args.keyword] if args.keyword else [])
            # The base (x1) is short: one busy moment of the machine moves its wall time by a tenth, and every
            # ratio with it; it is run --base-runs times and its median taken (each figure's own median).
            repeats = args.base_runs if factor == factors[0] else 1
            tries = [measured_run(arguments, work / f"out-x{factor}-{k}", timeout=600 + 120 * factor)
                     for k in range(repeats)]
            runs[factor] = run = median_run(tries)
            print(f"cases x{factor}: {run['cases']} case items ({run['failed']} failed), {run['seconds']:.1f} s, peak RSS "
                  f"{mib(run['peak_rss'])} MiB (the run process {mib(run['peak_rss_run_process'])} MiB), "
                  f"exit {run['exit']}; "
                  + ", ".join(f"{name} {kib(size)} KiB" for name, size in run["sizes"].items())
                  + ("; runs: " + ", ".join(f"{t['seconds']:.1f} s {mib(t['peak_rss'])} MiB" for t in run["tries"])
                     + " (median of each)" if "tries" in run else ""), flush=True)
        if not args.no_fuzz:
            for factor in sorted(set(args.fuzz_factors)):
                examples = args.fuzz_examples * factor
                run = measured_run(["--fuzz-only", "--fuzz-examples", str(examples), "--seed", "0"],
                                   work / f"out-fuzz-x{factor}", timeout=600 + 60 * factor)
                run["examples"] = examples
                run["units"] = run["fuzzed"]["sent"]
                fuzz_runs[factor] = run
                print(f"fuzz x{factor} ({examples} examples per route and mode): {run['units']} requests sent, "
                      f"{run['seconds']:.1f} s, peak RSS {mib(run['peak_rss'])} MiB, exit {run['exit']}; "
                      + ", ".join(f"{name} {kib(size)} KiB" for name, size in run["sizes"].items()), flush=True)
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    base, top = runs[1], runs[factors[-1]]
    scale = factors[-1]
    wall_ratio = top["seconds"] / base["seconds"]
    rss_ratio = top["peak_rss"] / base["peak_rss"]
    size_ratios = {name: (top["sizes"][name] / base["sizes"][name]) if base["sizes"][name] else 0.0
                   for name in OUTPUTS}
    report_over = [f"x{f}" for f, run in runs.items() if run["sizes"]["report.html"] > report_budget(run["failed"])]
    report_peak = max(run["sizes"]["report.html"] for run in runs.values())
    checks = {f"wall x{scale} <= {WALL_RATIO * scale / 10:g}x": wall_ratio <= WALL_RATIO * scale / 10,
              f"peak RSS x{scale} <= {RSS_RATIO:g}x": rss_ratio <= RSS_RATIO,
              f"results.json x{scale} <= {scale}x": size_ratios["results.json"] <= scale,
              f"report.html x{scale} <= {scale}x": size_ratios["report.html"] <= scale,
              f"report.html <= {kib(CLEAN_REPORT_BUDGET):g} KiB clean, <= {kib(FAILING_REPORT_BUDGET):g} KiB with "
              f"failures": not report_over}
    met = all(checks.values())
    print(f"x{scale} / x1: wall {wall_ratio:.2f}x, peak RSS {rss_ratio:.2f}x, results.json "
          f"{size_ratios['results.json']:.2f}x, report.html {size_ratios['report.html']:.2f}x, junit.xml "
          f"{size_ratios['junit.xml']:.2f}x; largest report.html {kib(report_peak)} KiB")
    for name, ok in checks.items():
        print(f"  {'met' if ok else 'NOT met'}: {name}")
    if len(fuzz_runs) > 1:
        low, high = fuzz_runs[min(fuzz_runs)], fuzz_runs[max(fuzz_runs)]
        print(f"fuzz x{max(fuzz_runs)} / x{min(fuzz_runs)}: requests {high['units'] / max(1, low['units']):.2f}x, "
              f"wall {high['seconds'] / low['seconds']:.2f}x, peak RSS {high['peak_rss'] / low['peak_rss']:.2f}x")

    case_rows = [[f"cases x{f}" + (f" (median of {len(r['tries'])})" if "tries" in r else "")
                  + (f" ({r['failed']} failed)" if r["failed"] else ""), r["cases"], r["seconds"], round(1000 * r["seconds"] / max(1, r["cases"]), 1),
                  mib(r["peak_rss"]), mib(r["peak_rss_run_process"]), kib(r["sizes"]["results.json"]),
                  kib(r["sizes"]["report.html"]), kib(r["sizes"]["junit.xml"])] for f, r in runs.items()]
    fuzz_rows = [[f"fuzz x{f} ({r['examples']}/route)", r["units"], r["seconds"],
                  round(1000 * r["seconds"] / max(1, r["units"]), 2), mib(r["peak_rss"]),
                  mib(r["peak_rss_run_process"]), kib(r["sizes"]["results.json"]), kib(r["sizes"]["report.html"]), kib(r["sizes"]["junit.xml"])]
                 for f, r in fuzz_runs.items()]
    columns = ["run", "units", "wall s", "ms per unit", "peak RSS MiB", "of it the run process", "results.json KiB",
               "report.html KiB", "junit.xml KiB"]
    tables = [figures.table("Cases (unit: a case item) and fuzzing (unit: a fuzzed request)", columns,
                            case_rows + fuzz_rows),
              figures.table(f"x{scale} against x1", ["", "ratio", "bound"],
                            [["wall time", round(wall_ratio, 2), WALL_RATIO * scale / 10],
                             ["peak RSS", round(rss_ratio, 2), RSS_RATIO],
                             ["peak RSS of the run process alone",
                              round(top["peak_rss_run_process"] / base["peak_rss_run_process"], 2), "(none)"],
                             *[[name, round(size_ratios[name], 2), scale if name != "junit.xml" else "(none)"]
                               for name in OUTPUTS]])]
    measured = (f"x{scale} cases: wall {wall_ratio:.2f}x ({top['seconds']:.1f} vs {base['seconds']:.1f} s), peak RSS "
                f"{rss_ratio:.2f}x ({mib(top['peak_rss'])} vs {mib(base['peak_rss'])} MiB), report.html "
                f"{kib(top['sizes']['report.html'])} KiB")
    item = figures.entry("scale", "Scale", target="x10 cases: wall <= 11x, peak RSS <= 3x of x1; results.json and "
                         "report.html at most linear; report.html <= 300 KB clean (1 MB with failures)", measured=measured, met=met,
                         tables=tables, raw={"cases": {str(f): r for f, r in runs.items()},
                                             "fuzz": {str(f): r for f, r in fuzz_runs.items()},
                                             "checks": checks, "keyword": args.keyword},
                         notes=[TREE_NOTE] + ([f"cases limited by -k {args.keyword}"] if args.keyword else []))
    figures.finish(item, args.record)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

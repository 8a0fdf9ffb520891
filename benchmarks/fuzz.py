"""Benchmark of fuzzing throughput: `dxconform run --fuzz-only` vs the schemathesis CLI (`st run`), side by side,
each a whole process timed from outside, on the same OpenAPI export and the same kind of server (not a test).

For each side, in turn (alternating when repeated):
1. a fresh reference server child, `dxconform serve --port 0 --closing-ms 0 --fixed-tokens` run by
   benchmarks/counting_server.py, which counts at the server what the tool sent: requests, and distinct
   examples = distinct (method, path, body) triples;
2. the tool as its users run it, a child process, cold (interpreter start, imports, schema loading,
   everything), timed from outside:
   - ours: `dxconform run --fuzz-only --server URL --token alice-token --token2 bob-token --fuzz-examples N
     --seed S --fuzz-mode positive --fuzz-mode negative --profile core --reruns 0` (positive and negative over
     the core routes, no stateful: what `st run --phases fuzzing --mode all` does);
   - schemathesis: `st run openapi.json --url URL -H "Authorization: Bearer alice-token" --phases fuzzing
     --mode all -n N --seed S --generation-database none -w 1` on `build_openapi(load_spec())` (the core export,
     written before the clock starts);
3. the server's counts read, the server stopped.

Examples/s = the tool's own count of distinct generated examples it sent (ours: the `examples` of results.json;
schemathesis: "N generated" of its summary) / wall seconds of the tool's process. The target: ours >= 3x the
CLI's. The server's counts are printed beside it as the cross-check (a tool's count is capped at the distinct
requests that reached the server: it may not claim more) and as requests/s; the server's distinct count of ours also holds the
pool of objects each (mode, route) item makes and destroys, so it is not the headline.

    python benchmarks/fuzz.py [--examples 8] [--seed 1] [--repeat 2] [--record]
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures  # noqa: E402
from launch import clean_env, start_listening, stop  # noqa: E402
from machine import machine  # noqa: E402

TARGET_RATIO = 3.0
RUN_TIMEOUT_S = 1800
TOKENS = ("alice-token", "bob-token")
COUNTING_SERVER = [sys.executable, str(Path(__file__).with_name("counting_server.py"))]
BIN = Path(sys.executable).parent
ST_GENERATED = re.compile(r"(\d+)\s+generated", re.IGNORECASE)
OURS, THEIRS = "dxconform run --fuzz-only", "schemathesis CLI (st run)"


def tool_env() -> dict[str, str]:
    return clean_env(SCHEMATHESIS_TELEMETRY="false")


def with_server(run) -> dict:
    """Start a fresh counting server, call `run(url)` -> (seconds, tool's own figures), read the counts, stop."""
    server, url = start_listening([*COUNTING_SERVER, "--port", "0", "--closing-ms", "0", "--fixed-tokens"],
                                  "the reference server")
    try:
        seconds, own = run(url)
        with urllib.request.urlopen(f"{url}/__counts", timeout=10) as answer:  # noqa: S310 - loopback only
            counts = json.load(answer)
    finally:
        stop(server, signal.SIGINT)
    # A tool may not claim more examples than distinct requests reached the server: its count is capped there
    # (st's "generated" counts examples it generated twice, or did not send).
    examples = min(own["examples"], counts["distinct"])
    return {"seconds": round(seconds, 2), "examples": examples, "claimed": own["examples"], "requests": counts["requests"],
            "distinct": counts["distinct"], "examples_per_s": round(examples / seconds, 1),
            "distinct_per_s": round(counts["distinct"] / seconds, 1),
            "requests_per_s": round(counts["requests"] / seconds, 1), "own": own}


def ours(work: Path, examples: int, seed: int) -> dict:
    def run(url: str) -> tuple[float, dict]:
        out = work / "ours"
        command = [str(BIN / "dxconform"), "run", "--fuzz-only", "--server", url, "--token", TOKENS[0],
                   "--token2", TOKENS[1], "--fuzz-examples", str(examples), "--seed", str(seed),
                   "--fuzz-mode", "positive", "--fuzz-mode", "negative", "--profile", "core", "--reruns", "0",
                   "-q", "--out", str(out)]
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=work, env=tool_env(), capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT_S)
        seconds = time.perf_counter() - started
        if finished.returncode not in (0, 1):
            raise SystemExit(f"dxconform run failed (exit {finished.returncode}):\n{finished.stdout[-3000:]}"
                             f"{finished.stderr[-3000:]}")
        return seconds, {"exit_code": finished.returncode, **fuzz_summary(out / "results.json")}
    return {"tool": OURS, **with_server(run)}


def fuzz_summary(results_file: Path) -> dict:
    """What our run says it did (results.json): examples counted by the fuzzer, requests, findings."""
    results = [r for r in json.loads(results_file.read_text())["results"] if r.get("fuzz")]
    items = {(r["fuzz"]["mode"], r["fuzz"]["route"]): r["fuzz"] for r in results}
    return {"items": len(items), "examples": sum(f.get("examples", 0) for f in items.values()),
            "sent": sum(f.get("sent", 0) for f in items.values()),
            "findings": sum(1 for r in results if r["outcome"] == "failed")}


def schemathesis_cli(work: Path, examples: int, seed: int) -> dict:
    document = work / "openapi.json"

    def run(url: str) -> tuple[float, dict]:
        from conformance.spec import load_spec
        from conformance.spec.openapi import build_openapi

        document.write_text(json.dumps(build_openapi(load_spec(), server=url)))
        command = [str(BIN / "schemathesis"), "run", str(document), "--url", url,
                   "-H", f"Authorization: Bearer {TOKENS[0]}", "--phases", "fuzzing", "--mode", "all",
                   "-n", str(examples), "--seed", str(seed), "--generation-database", "none", "-w", "1"]
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=work, env=tool_env(), capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT_S)
        seconds = time.perf_counter() - started
        match = ST_GENERATED.search(finished.stdout)
        if finished.returncode not in (0, 1) or match is None:
            raise SystemExit(f"st run failed (exit {finished.returncode}):\n{finished.stdout[-3000:]}"
                             f"{finished.stderr[-2000:]}")
        return seconds, {"exit_code": finished.returncode, "examples": int(match.group(1))}
    return {"tool": THEIRS, **with_server(run)}


def best(rows: list[dict]) -> dict:
    return max(rows, key=lambda row: row["examples_per_s"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=8,
                        help="examples per route and mode (ours: --fuzz-examples; st: -n); default 8, the budget "
                             "of `dxconform run --fuzz`")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each side, alternating (default 2; the best of each is compared)")
    figures.add_record_option(parser)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    print(f"schemathesis {version('schemathesis')}, hypothesis {version('hypothesis')}")
    runs: dict[str, list[dict]] = {OURS: [], THEIRS: []}
    with tempfile.TemporaryDirectory(prefix="dxconform-fuzz-bench-") as tmp:
        for index in range(args.repeat):
            sides = (ours, schemathesis_cli) if index % 2 == 0 else (schemathesis_cli, ours)
            for side in sides:
                row = side(Path(tmp), args.examples, args.seed)
                runs[row["tool"]].append(row)
                print(json.dumps(row), flush=True)
    mine, theirs = best(runs[OURS]), best(runs[THEIRS])
    ratio = mine["examples_per_s"] / theirs["examples_per_s"]
    server_ratio = mine["distinct_per_s"] / theirs["distinct_per_s"]
    met = ratio >= TARGET_RATIO
    for row in (mine, theirs):
        capped = f" (claimed {row['claimed']}, capped)" if row["claimed"] > row["examples"] else ""
        print(f"{row['tool']:28} {row['examples']:6} examples (own count{capped}) in {row['seconds']:6.2f} s: "
              f"{row['examples_per_s']:7.1f} examples/s; at the server {row['distinct']} distinct, "
              f"{row['requests']} requests ({row['requests_per_s']:.1f} requests/s)")
    print(f"ratio: {ratio:.2f}x the examples/s of the schemathesis CLI, each by its own count of distinct generated "
          f"examples (target >= {TARGET_RATIO:g}x: {'MET' if met else 'NOT MET'}); by the server's distinct "
          f"counts: {server_ratio:.2f}x")
    columns = ["", "dxconform run --fuzz-only", "st run"]
    rows = [[label, mine[key], theirs[key]] for label, key in (
        ("examples (the tool's own count)", "claimed"),
        ("examples counted (own count, at most the server's distinct)", "examples"), ("wall seconds (whole process)", "seconds"),
        ("examples/s", "examples_per_s"), ("distinct requests (counted at the server)", "distinct"),
        ("requests (counted at the server)", "requests"), ("requests/s", "requests_per_s"))]
    item = figures.entry(
        "fuzz", "Fuzzing", target=f">= {TARGET_RATIO:g}x the examples/s of the schemathesis CLI",
        measured=f"{ratio:.2f}x ({mine['examples_per_s']} vs {theirs['examples_per_s']} examples/s)", met=met,
        tables=[figures.table(f"--examples {args.examples} --seed {args.seed}, best of {args.repeat} runs per "
                              "side, alternating", columns, rows)],
        raw={"examples": args.examples, "seed": args.seed, "repeat": args.repeat, "ratio": round(ratio, 3),
             "ratio_by_server_counts": round(server_ratio, 3),
             "schemathesis": version("schemathesis"), "hypothesis": version("hypothesis"), "runs": runs},
        notes=["Examples are each tool's own count of distinct generated examples it sent (ours: results.json; "
               "st run: its summary's \"generated\"), capped at the distinct requests the server counted "
               f"(st run claimed {theirs['claimed']}, the server saw {theirs['distinct']} distinct requests). "
               f"The server's distinct count of ours ({mine['distinct']}) also holds the pool of objects each of "
               f"the {mine['own'].get('items')} (mode, route) items makes and destroys; by the server's distinct "
               f"counts the ratio is {server_ratio:.2f}x."])
    figures.finish(item, args.record)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

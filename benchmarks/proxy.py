"""Benchmark of the latency the validating proxy adds (p50, p99) and of its memory over a long session (not a test).

Starts `dxconform serve` and `dxconform proxy` (optionally --strict) as child processes on 127.0.0.1, then
sends the same request (/record-xxxx/describe of a record with details, tags and properties) straight to the
server and through the proxy, one at a time from one requests.Session each, in alternating blocks of BLOCK
(both paths see the same machine load), and prints the percentiles of both paths and their difference: the
latency the proxy adds. The RSS of the proxy process and its children (the checker process) is sampled all
along (psutil, every 0.2 s, with the number of exchanges forwarded so far): the mean over the first tenth of the exchanges, over the last tenth, and the peak.
Flat means the last tenth is within FLAT_GROWTH of the first: what the proxy keeps does not grow with the
number of exchanges (its HAR is streamed to disk, its tally is per check and route), and the checker keeps up
(a backlog of unchecked exchanges would grow). Then the proxy is
stopped and its outputs are checked: results.json counts every exchange, the HAR holds one entry per
exchange, in start order.

Targets (issue 21): over 100,000 exchanges per path, the proxy adds at most 1 ms at p50 and 5 ms at p99, with
flat RSS. Bounded in count (--requests) and in time (--seconds).

    python benchmarks/proxy.py [--requests 100000] [--seconds 900] [--strict] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures  # noqa: E402
from launch import start_listening, stop  # noqa: E402
from machine import machine  # noqa: E402

HEADERS = {"Authorization": "Bearer alice-token", "Content-Type": "application/json"}
WARMUP = 500
BLOCK = 100         # requests per path before switching: both paths see the same machine load
ADDED_P50_MS, ADDED_P99_MS = 1.0, 5.0
FLAT_GROWTH = 0.10  # the last tenth's mean RSS at most 10 % over the first tenth's
SAMPLE_SECONDS = 0.2


def start(command: list[str]) -> tuple[subprocess.Popen, str]:
    return start_listening(command, command[3])


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def one_call(session: requests.Session, url: str, body: bytes) -> float:
    started = time.perf_counter()
    answer = session.post(url, data=body, headers=HEADERS, timeout=30)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:200]}")
    return elapsed * 1000


class RssSampler:
    """(exchanges so far, RSS bytes) of a process and its children (the proxy's checker) every SAMPLE_SECONDS,
    until stopped."""

    def __init__(self, pid: int, progress):
        self.process = psutil.Process(pid)
        self.progress = progress
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            try:
                total = 0
                for process in [self.process, *self.process.children(recursive=True)]:
                    try:
                        total += process.memory_info().rss
                    except psutil.NoSuchProcess:   # a child that just ended
                        pass
                self.samples.append((self.progress(), total))
            except psutil.NoSuchProcess:
                return

    def stop(self) -> list[tuple[int, int]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def tenths(samples: list[tuple[int, int]], total: int) -> tuple[float, float, int]:
    """(mean RSS over the first tenth of the exchanges, over the last tenth, peak RSS)."""
    first = [rss for done, rss in samples if done <= total / 10] or [samples[0][1]]
    last = [rss for done, rss in samples if done >= total * 9 / 10] or [samples[-1][1]]
    return statistics.fmean(first), statistics.fmean(last), max(rss for _, rss in samples)


def check_outputs(out: Path, proxied: int) -> dict:
    """What the proxy wrote: results.json's exchange count, the HAR's entries (counted as a stream: one entry
    per line), their order, and the files' sizes."""
    results = json.loads((out / "results.json").read_text())
    entries, ordered, previous = 0, True, ""
    with open(out / "exchanges.har", encoding="utf-8") as har:
        for line in har:
            if line.startswith('{"startedDateTime": '):
                entries += 1
                started = line[len('{"startedDateTime": "'):].split('"', 1)[0]
                ordered = ordered and started >= previous
                previous = started
    failed = [r["id"] for r in results["results"] if r["outcome"] in ("failed", "error")]
    return {"api_exchanges": results["traffic"]["api"], "har_entries": entries, "har_in_start_order": ordered,
            "sent": proxied, "failed_checks": failed,
            "sizes": {name: (out / name).stat().st_size for name in ("results.json", "report.html", "exchanges.har")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="requests per path (default 100000)")
    parser.add_argument("--seconds", type=float, default=900.0, help="time bound of the measurement (default 900)")
    parser.add_argument("--strict", action="store_true", help="measure the proxy in --strict mode")
    parser.add_argument("--keep", action="store_true", help="keep the proxy's outputs (results, report, HAR)")
    figures.add_record_option(parser)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    cli = [sys.executable, "-m", "conformance.cli.main"]
    server, server_url = start(cli + ["serve", "--host", "127.0.0.1", "--port", "0", "--closing-ms", "0",
                                      "--fixed-tokens"])
    out = Path(tempfile.mkdtemp(prefix="dxconform-proxy-bench-"))
    proxy, proxy_url = start(cli + ["proxy", "--upstream", server_url, "--listen", "127.0.0.1:0", "--out", str(out)]
                             + (["--strict"] if args.strict else []))
    samples: dict[str, list[float]] = {"direct": [], "proxy": []}
    sampler = RssSampler(proxy.pid, lambda: len(samples["proxy"]))
    stop_seconds = 0.0
    try:
        direct, proxied = requests.Session(), requests.Session()
        project = direct.post(server_url + "/project/new", data=json.dumps({"name": "bench"}), headers=HEADERS,
                              timeout=30).json()["id"]
        record = direct.post(server_url + "/record/new", data=json.dumps({
            "project": project, "name": "bench", "tags": ["a", "b"], "properties": {"k": "v"},
            "details": {"values": list(range(20))}, "close": True}), headers=HEADERS, timeout=30).json()["id"]
        path, body = f"/{record}/describe", json.dumps({"project": project}).encode()
        for _ in range(WARMUP):
            one_call(direct, server_url + path, body)
            one_call(proxied, proxy_url + path, body)
        deadline = time.monotonic() + args.seconds
        while len(samples["proxy"]) < args.requests and time.monotonic() < deadline:
            block = min(BLOCK, args.requests - len(samples["proxy"]))
            samples["direct"] += [one_call(direct, server_url + path, body) for _ in range(block)]
            samples["proxy"] += [one_call(proxied, proxy_url + path, body) for _ in range(block)]
    finally:
        rss = sampler.stop()
        stopping = time.perf_counter()
        stop(proxy, signal.SIGINT, timeout=600)    # the proxy writes its outputs, then ends
        stop_seconds = time.perf_counter() - stopping
        stop(server, signal.SIGINT, timeout=30)
    count = len(samples["proxy"])
    outputs = check_outputs(out, count + WARMUP)
    print(f"{count} requests per path, POST /record-xxxx/describe{' (proxy --strict)' if args.strict else ''}, "
          f"alternating blocks of {BLOCK}")
    print(f"{'path':8}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    figures_by_path = {}
    for name, values in samples.items():
        figures_by_path[name] = {"p50": round(percentile(values, 50), 3), "p99": round(percentile(values, 99), 3),
                                 "mean": round(statistics.fmean(values), 3)}
        print(f"{name:8}" + "".join(f"{figures_by_path[name][k]:10.3f}" for k in ("p50", "p99", "mean")))
    added50 = figures_by_path["proxy"]["p50"] - figures_by_path["direct"]["p50"]
    added99 = figures_by_path["proxy"]["p99"] - figures_by_path["direct"]["p99"]
    first, last, peak = tenths(rss, count)
    growth = last / first - 1
    flat = growth <= FLAT_GROWTH
    complete = (outputs["api_exchanges"] == outputs["sent"] == outputs["har_entries"]
                and outputs["har_in_start_order"])
    print(f"added by the proxy: p50 {added50:.3f} ms (target <= {ADDED_P50_MS:g}), p99 {added99:.3f} ms "
          f"(target <= {ADDED_P99_MS:g})")
    print(f"proxy + checker RSS: first tenth {first / 2**20:.1f} MiB, last tenth {last / 2**20:.1f} MiB ({growth:+.1%}, "
          f"flat: at most {FLAT_GROWTH:+.0%}), peak {peak / 2**20:.1f} MiB, {len(rss)} samples")
    print(f"proxy outputs after {stop_seconds:.1f} s to stop and write: {outputs['api_exchanges']} API exchanges in "
          f"results.json, {outputs['har_entries']} HAR entries (in start order: {outputs['har_in_start_order']}), "
          f"of {outputs['sent']} sent; " + ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in outputs["sizes"].items()))
    if args.keep:
        print(f"proxy outputs: {out}")
    else:
        shutil.rmtree(out, ignore_errors=True)
    met = added50 <= ADDED_P50_MS and added99 <= ADDED_P99_MS and flat and complete
    at_scale = count >= 100_000
    item = figures.entry(
        "proxy", "Validating proxy",
        target=f"over 100,000 exchanges: added p50 <= {ADDED_P50_MS:g} ms, added p99 <= {ADDED_P99_MS:g} ms, "
               f"flat RSS", measured=f"{count} exchanges per path: added p50 {added50:.2f} ms, p99 {added99:.2f} ms; "
                                    f"RSS {first / 2**20:.0f} -> {last / 2**20:.0f} MiB ({growth:+.1%})",
        met=met and at_scale,
        tables=[figures.table("Latency, ms (one request at a time, alternating blocks)",
                              ["path", "p50", "p99", "mean"],
                              [[name, v["p50"], v["p99"], v["mean"]] for name, v in figures_by_path.items()]
                              + [["added by the proxy", round(added50, 3), round(added99, 3),
                                  round(figures_by_path["proxy"]["mean"] - figures_by_path["direct"]["mean"], 3)]]),
                figures.table("RSS of the proxy and its checker, MiB", ["first tenth", "last tenth", "growth", "peak"],
                              [[round(first / 2**20, 1), round(last / 2**20, 1), f"{growth:+.1%}",
                                round(peak / 2**20, 1)]]),
                figures.table("Outputs", ["API exchanges in results.json", "HAR entries", "in start order",
                                          "stop and write, s", "results.json MiB", "report.html MiB",
                                          "exchanges.har MiB"],
                              [[outputs["api_exchanges"], outputs["har_entries"], outputs["har_in_start_order"],
                                round(stop_seconds, 1)] + [round(v / 2**20, 2) for v in outputs["sizes"].values()]])],
        raw={"requests_per_path": count, "strict": args.strict, "latency_ms": figures_by_path,
             "added_ms": {"p50": round(added50, 3), "p99": round(added99, 3)},
             "rss_bytes": {"first_tenth": int(first), "last_tenth": int(last), "peak": peak, "samples": len(rss)},
             "outputs": outputs, "stop_seconds": round(stop_seconds, 2)},
        notes=[] if at_scale else [f"{count} exchanges per path, fewer than the target's 100,000"])
    figures.finish(item, args.record)
    return 0 if met and at_scale else 1


if __name__ == "__main__":
    sys.exit(main())

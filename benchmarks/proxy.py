"""Benchmark of the latency the validating proxy adds (p50, p99), next to the direct path (not a test).

Starts `dxconform serve` and `dxconform proxy` (optionally --strict) as child processes on 127.0.0.1, then
sends the same requests (/record-xxxx/describe of a record with details, tags and properties) alternately
straight to the server and through the proxy, one at a time from one requests.Session each, and prints the
percentiles of both paths. Bounded in count (--requests) and in time (--seconds).

    python benchmarks/proxy.py [--requests 2000] [--seconds 30] [--strict] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import requests
from launch import start_listening

HEADERS = {"Authorization": "Bearer alice-token", "Content-Type": "application/json"}
WARMUP = 200
BLOCK = 50          # requests per path before switching: both paths see the same machine load


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per path (default 2000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time bound of the measurement (default 30)")
    parser.add_argument("--strict", action="store_true", help="measure the proxy in --strict mode")
    parser.add_argument("--keep", action="store_true", help="keep the proxy's outputs (results, report, HAR)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "conformance.cli.main"]
    server, server_url = start(cli + ["serve", "--host", "127.0.0.1", "--port", "0", "--closing-ms", "0",
                                      "--fixed-tokens"])
    out = tempfile.mkdtemp(prefix="dxconform-proxy-bench-")
    proxy, proxy_url = start(cli + ["proxy", "--upstream", server_url, "--listen", "127.0.0.1:0", "--out", out]
                             + (["--strict"] if args.strict else []))
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
        samples: dict[str, list[float]] = {"direct": [], "proxy": []}
        deadline = time.monotonic() + args.seconds
        while len(samples["proxy"]) < args.requests and time.monotonic() < deadline:
            samples["direct"] += [one_call(direct, server_url + path, body) for _ in range(BLOCK)]
            samples["proxy"] += [one_call(proxied, proxy_url + path, body) for _ in range(BLOCK)]
    finally:
        proxy.send_signal(signal.SIGINT)
        proxy.wait(timeout=60)
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"{len(samples['proxy'])} requests per path, POST {'/record-xxxx/describe'}"
          f"{' (proxy --strict)' if args.strict else ''}")
    print(f"{'path':8}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, values in samples.items():
        print(f"{name:8}{percentile(values, 50):10.3f}{percentile(values, 99):10.3f}{statistics.fmean(values):10.3f}")
    added50 = percentile(samples["proxy"], 50) - percentile(samples["direct"], 50)
    added99 = percentile(samples["proxy"], 99) - percentile(samples["direct"], 99)
    print(f"added by the proxy: p50 {added50:.3f} ms, p99 {added99:.3f} ms (target: p50 <= 2 ms)")
    if args.keep:
        print(f"proxy outputs: {out}")
    else:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()

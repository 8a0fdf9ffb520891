"""Benchmark of the reference server on loopback: describe and findDataObjects requests/s, upload and download
MiB/s (not a test).

Starts `dxconform serve --port 0` as a child process (in memory, then on a SQLite file), measures
from this process over HTTP, prints the figures and the machine, and stops the server. Every phase is
bounded both in count and in time.

    python benchmarks/refserver.py [--seconds 5] [--clients 1 4] [--upload-mib 200] [--find-objects 100]
        [--stores memory db] [--record]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import figures  # noqa: E402
from launch import start_listening, stop  # noqa: E402
from machine import machine  # noqa: E402

MiB = 1024 * 1024
PART = 5 * MiB                        # the server's minimumPartSize, and what dxpy uses for small files
MAX_DESCRIBES_PER_CLIENT = 50_000     # the count bound of the describe phase (the time bound is --seconds)
HEADERS = {"Authorization": "Bearer alice-token", "Content-Type": "application/json"}


def start_server(db_path: str | None) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "conformance.cli.main", "serve", "--host", "127.0.0.1", "--port", "0",
               "--closing-ms", "0", "--fixed-tokens"]
    if db_path:
        command += ["--db", db_path]
    return start_listening(command, "the reference server", timeout=20)


def call(session: requests.Session, url: str, path: str, body: dict | None = None) -> dict:
    answer = session.post(url + path, data=json.dumps(body or {}), headers=HEADERS, timeout=60)
    if answer.status_code != 200:
        raise SystemExit(f"{path} answered {answer.status_code}: {answer.text[:200]}")
    return answer.json()


def bench_describe(url: str, record: str, project: str, clients: int, seconds: float) -> tuple[int, float]:
    """(describes answered, elapsed seconds) with `clients` threads, each with its own session."""
    return bench_calls(url, f"/{record}/describe", {"project": project}, clients, seconds)


def bench_calls(url: str, path: str, body: dict, clients: int, seconds: float) -> tuple[int, float]:
    """(calls answered, elapsed seconds) of one API call repeated by `clients` threads, each with its own session."""
    deadline = time.perf_counter() + seconds

    def run(_: int) -> int:
        done = 0
        with requests.Session() as session:
            while done < MAX_DESCRIBES_PER_CLIENT and time.perf_counter() < deadline:
                call(session, url, path, body)
                done += 1
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        total = sum(pool.map(run, range(clients)))
    return total, time.perf_counter() - start


def bench_upload(url: str, project: str, total_mib: int, seconds: float) -> tuple[int, float, str]:
    """Upload files of four 5 MiB parts until `total_mib` or `seconds`: (bytes, elapsed, last file id).

    The time counts everything a client waits for: /file/new, /upload, the PUTs, /close and the
    describe that sees `closed`.
    """
    part = os.urandom(PART)
    md5 = hashlib.md5(part).hexdigest()
    sent, file_id = 0, ""
    session = requests.Session()
    start = time.perf_counter()
    while sent < total_mib * MiB and time.perf_counter() - start < seconds:
        file_id = call(session, url, "/file/new", {"project": project, "name": "bench.bin"})["id"]
        for index in range(1, 5):
            target = call(session, url, f"/{file_id}/upload", {"index": index, "size": PART, "md5": md5})
            put = session.put(target["url"], data=part, headers=target.get("headers", {}), timeout=60)
            if not 200 <= put.status_code < 300:
                raise SystemExit(f"PUT answered {put.status_code}: {put.text[:200]}")
            sent += PART
        call(session, url, f"/{file_id}/close")
        while call(session, url, f"/{file_id}/describe", {"fields": {"state": True}})["state"] != "closed":
            time.sleep(0.01)
    return sent, time.perf_counter() - start, file_id


def bench_download(url: str, project: str, file_id: str, seconds: float) -> tuple[int, float]:
    session = requests.Session()
    received = 0
    start = time.perf_counter()
    for _ in range(20):
        if time.perf_counter() - start > seconds:
            break
        link = call(session, url, f"/{file_id}/download", {"project": project})
        received += len(session.get(link["url"], headers=link.get("headers", {}), timeout=60).content)
    return received, time.perf_counter() - start


def populate(session: requests.Session, url: str, project: str, count: int) -> None:
    """`count` closed records with a tag and properties in a folder of their own, for findDataObjects."""
    for index in range(count):
        call(session, url, "/record/new", {"project": project, "name": f"found-{index:04d}", "folder": "/find",
                                           "parents": True, "tags": ["bench"], "properties": {"n": str(index)},
                                           "close": True})


def measure(args, db: bool) -> dict[str, float]:
    """{measure: figure} of one server (in memory, or on a temporary SQLite file), printed as it goes."""
    found_figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="dxconform-bench-") as tmp:
        proc, url = start_server(os.path.join(tmp, "bench.sqlite") if db else None)
        try:
            session = requests.Session()
            project = call(session, url, "/project/new", {"name": "bench"})["id"]
            record = call(session, url, "/record/new", {"project": project, "name": "r", "tags": ["t"],
                                                        "properties": {"k": "v"}, "close": True})["id"]
            print(f"server:  {url} ({'SQLite file' if db else 'in memory'})")
            for clients in args.clients:
                count, elapsed = bench_describe(url, record, project, clients, args.seconds)
                found_figures[f"describe, {clients} client(s), requests/s"] = count / elapsed
                print(f"describe: {count / elapsed:8.0f} requests/s  ({clients} client(s), {count} requests "
                      f"in {elapsed:.1f} s)")
            populate(session, url, project, args.find_objects)
            find = {"scope": {"project": project, "folder": "/find"}, "tags": "bench",
                    "describe": {"fields": {"name": True, "tags": True, "properties": True}},
                    "limit": args.find_objects}
            found = len(call(session, url, "/system/findDataObjects", find)["results"])
            if found != args.find_objects:
                raise SystemExit(f"findDataObjects found {found} objects, not {args.find_objects}")
            for clients in args.clients:
                count, elapsed = bench_calls(url, "/system/findDataObjects", find, clients, args.seconds)
                found_figures[f"findDataObjects ({found} described per answer), {clients} client(s), requests/s"] = \
                    count / elapsed
                print(f"find:     {count / elapsed:8.0f} requests/s  ({clients} client(s), {found} described "
                      f"objects per answer: {count * found / elapsed:,.0f} objects/s)")
            sent, elapsed, file_id = bench_upload(url, project, args.upload_mib, args.seconds)
            found_figures["upload, 5 MiB parts, /file/new to closed, MiB/s"] = sent / MiB / elapsed
            print(f"upload:   {sent / MiB / elapsed:8.1f} MiB/s      ({sent // MiB} MiB in 5 MiB parts, "
                  f"new to closed, in {elapsed:.1f} s)")
            received, elapsed = bench_download(url, project, file_id, args.seconds)
            found_figures["download through the file's URL, MiB/s"] = received / MiB / elapsed
            print(f"download: {received / MiB / elapsed:8.1f} MiB/s      ({received // MiB} MiB in {elapsed:.1f} s)")
        finally:
            stop(proc)
    return found_figures


STORES = {"memory": "in memory", "db": "`--db` file"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time bound of each phase (default 5)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="describe clients (default 1 4)")
    parser.add_argument("--upload-mib", type=int, default=200, help="upload bound in MiB (default 200)")
    parser.add_argument("--find-objects", type=int, default=100,
                        help="objects findDataObjects returns, described, in one page (default 100)")
    parser.add_argument("--stores", nargs="+", choices=sorted(STORES), default=["memory", "db"],
                        help="servers to measure: in memory, on a temporary SQLite file (default both)")
    parser.add_argument("--db", action="store_true", help="only the SQLite file store (as --stores db)")
    figures.add_record_option(parser)
    args = parser.parse_args(argv)
    stores = ["db"] if args.db else args.stores
    print(f"machine: {machine()}")
    measured = {store: measure(args, store == "db") for store in stores}
    names = list(dict.fromkeys(name for store in stores for name in measured[store]))
    rows = [[name, *(round(measured[store].get(name, 0.0), 1) for store in stores)] for name in names]
    first = measured[stores[0]]
    describe = first.get("describe, 1 client(s), requests/s")
    item = figures.entry(
        "refserver", "Reference server", target=None, met=None,
        measured=(f"{describe:,.0f} describe requests/s ({STORES[stores[0]]}, 1 client)" if describe
                  else "see the table"),
        tables=[figures.table("Requests/s and MiB/s of `dxconform serve` on loopback, from one process over HTTP",
                              ["measure", *(STORES[store] for store in stores)], rows)],
        raw={"stores": measured, "seconds": args.seconds, "upload_mib": args.upload_mib}, argv=argv)
    figures.finish(item, args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())

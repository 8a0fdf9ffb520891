"""Benchmark of output validation: validations/s of describe and findDataObjects answers (not a test).

The answers are real ones: the reference server's app is called in process (no HTTP) to make a file with
tags, properties and details-free metadata, and a findDataObjects page with `describe`. Each is validated
with the validators the suite's output_schema check uses (conformance.spec's SchemaValidator): the fast
path `is_valid` (jsonschema-rs), and for comparison the readable path `errors` (Python jsonschema), which the
check calls only when `is_valid` says no. Prints validations/s and the ratio to the 50,000/s target.

    python benchmarks/validation.py [--seconds 2] [--page 20] [--record]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures  # noqa: E402
from machine import machine  # noqa: E402

from conformance.refserver.app import RefServerApp  # noqa: E402
from conformance.refserver.context import FIXED_TOKENS, Settings  # noqa: E402
from conformance.spec import load_spec  # noqa: E402

TARGET_PER_S = 50_000
HEADERS = {"authorization": "Bearer alice-token", "content-type": "application/json"}
BASE_URL = "http://127.0.0.1:1"   # never contacted: the app only writes it into upload/download URLs


def call(app: RefServerApp, path: str, body: dict) -> dict:
    answer = app.handle("POST", path, HEADERS, json.dumps(body).encode(), BASE_URL)
    if answer.status != 200:
        raise SystemExit(f"{path} answered {answer.status}: {answer.body[:200]!r}")
    return json.loads(answer.body)


def sample_answers(page: int) -> dict[str, tuple[str, dict]]:
    """{label: (route key, answer)}: a ~1 KB file describe and a findDataObjects page of `page` described files."""
    app = RefServerApp(settings=Settings(closing_ms=0, users=dict(FIXED_TOKENS)))
    project = call(app, "/project/new", {"name": "validation bench"})["id"]
    file_id = ""
    for index in range(page):
        file_id = call(app, "/file/new", {
            "project": project, "name": f"sample-{index:03d}.fastq.gz", "folder": "/runs/2026-11", "parents": True,
            "tags": ["raw", "lane-1", "illumina"], "types": ["FASTQ"],
            "properties": {"sample": f"S{index:03d}", "run": "R17", "owner": "lab-a", "lane": "1",
                           "instrument": "NovaSeq 6000", "flowcell": "HJ2KLDSX3", "library": f"L{index:04d}"},
            "details": {"reads": 48_211_337, "paired": True, "adapters": ["AGATCGGAAGAGC", "CTGTCTCTTATA"],
                        "qc": {"q30": 0.93, "gc": 0.41, "duplicates": 0.087},
                        "pipeline": {"name": "bcl2fastq", "version": "2.20.0.422", "started": "2026-11-02T08:14:00Z",
                                     "arguments": ["--no-lane-splitting", "--barcode-mismatches", "1"]},
                        "notes": "re-demultiplexed after the sample sheet fix of run R17; lanes merged"}})["id"]
        call(app, f"/{file_id}/close", {})
    describe = call(app, f"/{file_id}/describe", {"project": project, "properties": True, "details": True})
    found = call(app, "/system/findDataObjects", {"scope": {"project": project}, "limit": page,
                                                  "describe": {"properties": True}})
    return {"file describe": ("/file-xxxx/describe", describe),
            f"findDataObjects ({len(found['results'])} described)": ("/system/findDataObjects", found)}


def rate(function, instance, seconds: float) -> tuple[float, int]:
    """(calls/s, calls) of function(instance), repeated in batches until `seconds` have passed."""
    calls, batch = 0, 100
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(batch):
            function(instance)
        calls += batch
        batch = min(batch * 2, 20_000)
    return calls / elapsed, calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement (default 2)")
    parser.add_argument("--page", type=int, default=20, help="objects in the findDataObjects page (default 20)")
    figures.add_record_option(parser)
    args = parser.parse_args(argv)
    spec = load_spec()
    print(f"machine: {machine()}")
    print(f"{'answer':34}{'bytes':>8}{'is_valid (rs) /s':>18}{'errors (py) /s':>16}{'ratio':>8}")
    rows, raw, describe_rate = [], {}, 0.0
    for label, (route, answer) in sample_answers(args.page).items():
        validator = spec.validator(route, "output")
        if not validator.is_valid(answer):
            raise SystemExit(f"{label} does not validate: {validator.errors(answer)[:3]}")
        fast, _ = rate(validator.is_valid, answer, args.seconds)
        readable, _ = rate(validator.errors, answer, args.seconds / 2)
        size = len(json.dumps(answer, separators=(",", ":")))
        print(f"{label:34}{size:8d}{fast:18,.0f}{readable:16,.0f}{fast / readable:7.0f}x")
        rows.append([label, size, round(fast), round(readable)])
        raw[label] = {"route": route, "bytes": size, "is_valid_per_s": fast, "errors_per_s": readable}
        if label == "file describe":
            describe_rate = fast
            print(f"  target for a ~1 KB describe: >= {TARGET_PER_S:,}/s -> "
                  f"{'MET' if fast >= TARGET_PER_S else 'NOT MET'} ({fast / TARGET_PER_S:.1f}x the target)")
    met = describe_rate >= TARGET_PER_S
    item = figures.entry(
        "validation", "Output validation", target=f">= {TARGET_PER_S:,} validations/s of a ~1 KB describe answer",
        measured=f"{describe_rate:,.0f}/s ({describe_rate / TARGET_PER_S:.1f}x the target)", met=met,
        tables=[figures.table("Validations per second of real answers (one process, no HTTP)",
                              ["answer", "bytes", "`is_valid` (jsonschema-rs) /s", "`errors` (jsonschema) /s"],
                              rows)],
        raw=raw, argv=argv)
    figures.finish(item, args.record)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

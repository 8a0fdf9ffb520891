"""How the reference server fares against real traffic: the project's copy of recorded platform traffic imported
and replayed against the embedded server, the figures kept in a record file that docs/differential.md shows.

`python -m conformance.differential.traffic_score --record docs/real-traffic-score.json` measures and records;
tests/differential/test_real_traffic_diff.py measures again and requires the same figures (a stale record fails).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CORPUS = "tests/data/real-traffic/stor"
RECORD_PATH = "docs/real-traffic-score.json"
RECORD_COMMAND = f"python -m conformance.differential.traffic_score --record {RECORD_PATH}"
FORMAT = "dxconform-real-traffic-score/1"
# The figures a new measurement must reproduce for the record to be current (counts only, no timing). Not the
# ignored differences per reason: one reason's count follows the order of random IDs (a page of one).
COMPARED = ("api_exchanges", "matched", "matched_without_ignores", "storage_exchanges", "by_route")


@dataclass
class Measurement:
    """One replay of an imported corpus: the diff's results.json and the recording's provenance."""

    document: dict[str, Any]
    imported: dict[str, Any]
    seconds: float

    @property
    def traffic(self) -> dict[str, Any]:
        return self.document["traffic"]


def import_corpus(paths: Iterable[str | Path]) -> dict[str, Any]:
    """The imported recording of the files (dxconform import, in process)."""
    from .importer import import_files

    return import_files(paths).document


def measure(golden: Mapping[str, Any], *, faults: Iterable[str] = (), cases: Iterable[str] = ()) -> Measurement:
    """`golden` replayed against a fresh embedded reference server (with `faults` switched on), with the
    project's ignore files for the real platform."""
    from ..refserver.context import Settings
    from ..refserver.server import RefServer
    from .config import platform_config
    from .traffic import replay_traffic

    started = time.monotonic()
    with RefServer(settings=Settings(faults=frozenset(faults))) as server:
        outcome = replay_traffic(golden, server.url, {"alice": server.token("alice")}, platform_config(),
                                 embedded=True, cases_filter=list(cases))
    return Measurement(outcome.document, dict(golden["imported"]), time.monotonic() - started)


def record_of(measurement: Measurement) -> dict[str, Any]:
    from .. import __version__

    traffic = measurement.traffic
    about = measurement.imported
    return {"format": FORMAT, "dxconform": __version__, "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "seconds": round(measurement.seconds, 1), "cpus": os.cpu_count() or 0, "corpus": CORPUS,
            "recorded_first": about.get("recorded_first"), "recorded_last": about.get("recorded_last"),
            "clients": about.get("clients", []), "tests": len(measurement.document["results"]),
            "exchanges": about.get("exchanges"),
            **{key: traffic[key] for key in COMPARED}, "ignored": traffic["ignored"]}


def stale_figures(record: Mapping[str, Any], measurement: Measurement) -> list[str]:
    """The compared figures whose recorded value differs from the measured one, as `name: recorded -> now`."""
    return [f"{key}: {_short(record.get(key))} -> {_short(measurement.traffic[key])}" for key in COMPARED
            if record.get(key) != measurement.traffic[key]]


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def write_record(path: str | Path, record: Mapping[str, Any]) -> Path:
    path = Path(path)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_record(path: str | Path) -> dict[str, Any] | None:
    """The record, or None when there is none yet; ValueError when the file is not a record."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} record")
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.differential.traffic_score",
                                     description="replay the project's copy of real platform traffic against the "
                                                 "embedded reference server and record the figures")
    parser.add_argument("--record", metavar="FILE", help=f"write the figures here (e.g. {RECORD_PATH})")
    parser.add_argument("--corpus", metavar="DIR", default=CORPUS, help=f"the recordings (default {CORPUS})")
    args = parser.parse_args(argv)
    if not Path(args.corpus).exists():
        parser.error(f"{args.corpus} does not exist (run from the repository's root)")
    measurement = measure(import_corpus([args.corpus]))
    from .traffic_compare import figure_line

    print(figure_line(measurement.traffic))
    if args.record:
        print(f"recorded: {write_record(args.record, record_of(measurement))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

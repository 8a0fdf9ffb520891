"""The recorded self-test score: a full sweep's measured result as JSON, kept in the repository for the docs."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..resources import cases_dir, schemas_dir
from .sweep import Sweep

RECORD_FORMAT = "dxconform-selftest-score/1"
RECORD_PATH = "docs/selftest-score.json"
RECORD_COMMAND = f"dxconform selftest -n 2 --record {RECORD_PATH}"


class RecordError(Exception):
    """The record file is unreadable or not a score record."""


@dataclass(frozen=True)
class ScoreRecord:
    """What one full sweep measured, and where and when."""

    dxconform: str
    recorded: str                     # UTC, ISO 8601 to the second
    suite_sha256: str                 # of cases/ and schemas/ (suite_sha256())
    workers: int
    whole: bool
    cpus: int | None
    seconds: float
    faults: tuple[str, ...]           # swept, in catalogue order
    caught: tuple[str, ...]
    clean_failures: int               # results that failed or errored on the clean server
    clean_problems: tuple[str, ...]   # why the clean run is not clean (empty: clean)

    @property
    def total(self) -> int:
        return len(self.faults)

    @property
    def escaped(self) -> tuple[str, ...]:
        return tuple(name for name in self.faults if name not in set(self.caught))

    @property
    def clean_ok(self) -> bool:
        return not self.clean_problems

    @property
    def date(self) -> str:
        return self.recorded[:10]

    def to_json(self) -> dict[str, Any]:
        return {"format": RECORD_FORMAT, "dxconform": self.dxconform, "recorded": self.recorded,
                "suite_sha256": self.suite_sha256, "workers": self.workers, "whole": self.whole,
                "cpus": self.cpus, "seconds": round(self.seconds, 1), "caught": len(self.caught),
                "total": self.total, "clean_failures": self.clean_failures,
                "clean_problems": list(self.clean_problems), "faults": list(self.faults),
                "caught_faults": list(self.caught), "escaped_faults": list(self.escaped)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoreRecord:
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            raise RecordError(f"not a {RECORD_FORMAT} record")
        try:
            return cls(str(data["dxconform"]), str(data["recorded"]), str(data["suite_sha256"]),
                       int(data["workers"]), bool(data["whole"]), data.get("cpus"), float(data["seconds"]),
                       tuple(data["faults"]), tuple(data["caught_faults"]), int(data["clean_failures"]),
                       tuple(data["clean_problems"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"malformed score record: {exc!r}") from None


def suite_sha256(roots: Iterable[Path] | None = None) -> str:
    """Digest of the suite's data: every file under cases/ and schemas/, by sorted relative path and bytes."""
    digest = hashlib.sha256()
    for root in roots or (cases_dir(), schemas_dir()):
        files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        for file in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            digest.update(f"{root.name}/{file.relative_to(root).as_posix()}".encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def record_of(result: Sweep, *, workers: int, whole: bool) -> ScoreRecord:
    """The record of a finished full sweep (with its clean run), stamped now."""
    clean = result.clean
    return ScoreRecord(
        dxconform=__version__,
        recorded=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        suite_sha256=suite_sha256(), workers=workers, whole=whole, cpus=os.cpu_count(), seconds=result.seconds,
        faults=tuple(v.fault for v in result.verdicts if v.fault),
        caught=tuple(v.fault for v in result.verdicts if v.fault and v.caught),
        clean_failures=len(clean.collateral) if clean else 0,
        clean_problems=tuple(clean.problems) if clean else ("no clean run",))


def write_record(record: ScoreRecord, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record.to_json(), indent=1) + "\n", encoding="utf-8")


def read_record(path: Path) -> ScoreRecord | None:
    """The record at `path`; None when there is none yet."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RecordError(f"{path}: not JSON: {exc}") from None
    return ScoreRecord.from_json(data)

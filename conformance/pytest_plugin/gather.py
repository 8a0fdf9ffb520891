"""The controller's side: gather case results from reports and check ledgers from workers; write results.json."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine import CheckLedger
from ..gate import Expectation, apply_to_json
from ..model import NotRunReason
from ..redaction import redactor
from ..reporting.encodable import write_text
from ..reporting.failure_section import rule_of
from ..reporting.junit_xml import junit_text
from ..reporting.report_page import standalone_page
from ..reporting.reproduction import merge_kept, write_scripts
from ..reporting.results_json import CASE_KIND, build_document, write_document
from ..reporting.spooled_results import ResultSpool
from ..resources import schemas_dir
from ..spec.schemas import tree_sha256
from .outcomes import outcome_of_report

RESULT_ATTRIBUTE = "dx_result"    # a report attribute: the case's Result as a JSON string (xdist ships it)
OUTCOME_ATTRIBUTE = "dx_outcome"  # a report attribute: its result's outcome (stays when the gatherer takes the JSON)
LEDGER_KEY = "dx_ledger"          # a key of an xdist worker's workeroutput: its CheckLedger.to_json()
CLEANUP_KEY = "dx_cleanup_failures"
KEPT_KEY = "dx_kept"              # a key of a worker's workeroutput: what it left under --keep (tracker snapshot)
STOPPED_KEY = "dx_stopped"        # a key of a worker's workeroutput: its breaker's cause, cases it did not run
MORE_RESULTS_ATTRIBUTE = "dx_more_results"   # further results of one item (a fuzz item's), a JSON list
JUNIT_FILE = "junit.xml"
REPORT_FILE = "report.html"


def now_ms() -> int:
    return int(time.time() * 1000)


class Gatherer:
    """Everything results.json needs, collected as reports arrive (from this process or from workers)."""

    def __init__(self, server_url: str, embedded: bool, secrets: Iterable[str],
                 expectations: Mapping[str, Expectation] | None = None):
        self.server_url = server_url
        self.expectations = dict(expectations or {})
        self.embedded = embedded
        self.secrets = [s for s in secrets if s]
        self.started_ms = now_ms()
        # Each case result as it is kept: its exchanges in a spool file, its other members in memory.
        self.case_results: dict[str, Mapping[str, Any]] = {}
        self._spool = ResultSpool()
        self.lost: list[str] = []          # items whose report carried no result (a crashed worker)
        self.ledger = CheckLedger()
        self.cleanup_failures: list[str] = []
        self.kept: dict[str, Any] = {}             # what the processes left on the server under --keep
        self.repro_written: tuple[Path, int] | None = None   # (DIR/repro, scripts written)
        self._document: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {     # further top-level keys of results.json (e.g. the fuzz seed)
            "environment": {"python": platform.python_version(), "platform": platform.platform()}}
        self.profiles: dict[str, Any] = {}         # {profile: ProfileStatus} from the start-up probe
        self.breaker: str | None = None            # why a process stopped calling the server (its breaker)
        self.not_run: dict[str, int] = {}          # cases not run, by reason (NotRunReason values)
        self.profile_seconds = 0.0

    def set_profiles(self, statuses: Mapping[str, Any], seconds: float) -> None:
        self.profiles = dict(statuses)
        self.profile_seconds = seconds

    @property
    def profile_results(self) -> list[dict[str, Any]]:
        results = [status.claim_result() for status in self.profiles.values()]
        return [apply_to_json(result.to_json(), self.expectations) for result in results if result is not None]

    def add_report(self, report: Any) -> None:
        carried = getattr(report, RESULT_ATTRIBUTE, None)
        if carried:
            self.case_results[report.nodeid] = self._kept(json.loads(carried))
            for index, more in enumerate(json.loads(getattr(report, MORE_RESULTS_ATTRIBUTE, None) or "[]")):
                self.case_results[f"{report.nodeid}#{index + 1}"] = self._kept(more)
            # Held from here on by the gatherer alone (pytest keeps every report to the end of the run).
            setattr(report, RESULT_ATTRIBUTE, None)
            setattr(report, MORE_RESULTS_ATTRIBUTE, None)
        elif report.failed and report.nodeid not in self.case_results and report.when in ("setup", "call"):
            self.lost.append(f"{report.nodeid}: {outcome_of_report(report).value} without a result")

    def _kept(self, result: dict[str, Any]) -> Mapping[str, Any]:
        """A case result as results.json has it (`kind` case), its exchanges spooled to disk."""
        result["kind"] = CASE_KIND
        return self._spool.add(result)

    @property
    def failed_ids(self) -> list[str]:
        """The results gathered so far that failed or errored (for the progress line)."""
        return [rid for rid, r in self.case_results.items() if r.get("outcome") in ("failed", "error")]

    def add_worker_output(self, output: dict[str, Any]) -> None:
        if output.get(LEDGER_KEY):
            self.ledger.merge(output[LEDGER_KEY])
        self.cleanup_failures.extend(output.get(CLEANUP_KEY) or [])
        merge_kept(self.kept, output.get(KEPT_KEY))
        stopped = output.get(STOPPED_KEY) or {}
        self.breaker = self.breaker or stopped.get("breaker")
        for reason, count in (stopped.get("not_run") or {}).items():
            self.not_run[reason] = self.not_run.get(reason, 0) + count

    @property
    def stopped(self) -> dict[str, Any] | None:
        """results.json `stopped`: why the run did not run everything (the server stopped answering, or the
        deadline passed), and how many cases and fuzz items it left out; None for a run that finished."""
        if self.breaker is None and not self.not_run:
            return None
        cause = (NotRunReason.SERVER_STOPPED.value if self.breaker is not None
                 else max(self.not_run, key=lambda reason: self.not_run[reason]))
        message = self.breaker or ("the run's deadline passed" if cause == NotRunReason.DEADLINE.value else cause)
        return {"cause": cause, "message": message, "not_run": sum(self.not_run.values()),
                "not_run_by_reason": dict(self.not_run)}

    @property
    def check_results(self) -> list[dict[str, Any]]:
        # Checks are judged against the expectations here (cases were, as they ran).
        return [apply_to_json(result.to_json(), self.expectations) for result in self.ledger.results()]

    def document(self) -> dict[str, Any]:
        if self._document is None:
            self._document = build_document(
                suite_version=__version__, schemas_sha256=tree_sha256(schemas_dir()),
                server_url=self.server_url, embedded=self.embedded, started_ms=self.started_ms,
                finished_ms=now_ms(), case_results=self.case_results.values(), check_results=self.check_results,
                profile_results=self.profile_results,
                profiles={name: status.to_json() for name, status in self.profiles.items()})
            self._document.update(self.extra)
            if self.stopped is not None:
                self._document["stopped"] = self.stopped
        return self._document

    def write(self, out_dir: Path) -> Path:
        """results.json, and junit.xml and report.html made from the very same document (so they agree)."""
        path = write_document(out_dir / "results.json", self.document(), self.secrets)
        junit = out_dir / JUNIT_FILE
        write_text(junit, redactor(self.secrets).scrub(junit_text(self.document())))
        report = out_dir / REPORT_FILE
        write_text(report, redactor(self.secrets).scrub(standalone_page(self.document())))
        # DIR/repro/<case>.py: a reproduction script per failed case (reporting/reproduction.py).
        directory, count = write_scripts(out_dir, self.document(), lambda r: rule_of(r)[0],
                                         redactor(self.secrets).scrub)
        self.repro_written = (directory, count) if count else None
        return path

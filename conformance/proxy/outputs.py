"""What a proxy run or a validate run leaves behind: results.json, report.html (and the proxy's HAR)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..redaction import redactor
from ..reporting.encodable import write_text
from ..reporting.results_json import build_document, write_document
from . import report

RESULTS, REPORT, HAR = "results.json", "report.html", "exchanges.har"


def results_document(check_results: list[dict[str, Any]], counts: Mapping[str, int], *, schemas_sha256: str,
                     server_url: str, started_ms: int, finished_ms: int, mode: str,
                     extra_traffic: dict[str, Any] | None = None) -> dict[str, Any]:
    """A dxconform-results/2 document of check results (no cases; Monitor.results()), plus `traffic`: what was
    seen (Monitor.traffic's counts)."""
    document = build_document(suite_version=__version__, schemas_sha256=schemas_sha256, server_url=server_url,
                              embedded=False, started_ms=started_ms, finished_ms=finished_ms, case_results=[],
                              check_results=check_results)
    traffic = {"mode": mode, "api": 0, "content": 0, "no_answer": 0, "over_limit": 0, **counts,
               **(extra_traffic or {})}
    document["traffic"] = traffic
    return document


def write_reports(out: Path, document: dict[str, Any], secrets: Iterable[str], title: str) -> dict[str, Path]:
    """results.json and report.html in `out`; every secret replaced by *** in both."""
    secrets = list(secrets)
    out.mkdir(parents=True, exist_ok=True)
    results = write_document(out / RESULTS, document, secrets)
    html = out / REPORT
    write_text(html, redactor(secrets).scrub(report.render(document, title)))
    return {"results": results, "report": html}

"""Offline validation: recorded traffic (HAR files) through the same checks as the proxy's live traffic."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..redaction import redactor
from ..spec import Spec, load_spec
from .har import LIMIT_NOTE, read_har
from .monitor import Monitor
from .outputs import results_document, write_reports

REPORT_TITLE = "dxconform validate: recorded DNAnexus API traffic"


def validate_files(paths: Iterable[str | Path], spec: Spec | None = None) -> tuple[Monitor, dict[str, Any], list[str]]:
    """(monitor with the tally, facts for results.json, tokens found) for HAR files checked in order.
    Each file is checked as its own stream of traffic (upload URLs learned in one do not carry over)."""
    spec = spec or load_spec()
    monitor = Monitor(spec)
    servers, files, secrets = [], [], set()
    for path in paths:
        entries, notes = read_har(path)
        files.append(str(path))
        monitor.forget_urls()
        for entry in sorted(entries, key=lambda e: e.started_ms):
            secrets.update(entry.tokens)
            if LIMIT_NOTE in entry.extra:
                monitor.count("over_limit")
                if "not checked" in entry.extra[LIMIT_NOTE]:
                    continue
            monitor.inspect(entry.exchange, now_ms=entry.started_ms)
        upstream = notes.get("upstream")
        if not upstream and entries:
            parts = urlsplit(entries[0].exchange.request.url)
            upstream = f"{parts.scheme}://{parts.netloc}"
        if upstream and upstream not in servers:
            servers.append(upstream)
    return monitor, {"files": files, "servers": servers}, sorted(secrets)


def validate(paths: list[str | Path], out: str | Path, spec: Spec | None = None) -> tuple[dict[str, Any], dict]:
    """Check the files and write results.json and report.html into `out`."""
    started = int(time.time() * 1000)
    monitor, facts, secrets = validate_files(paths, spec)
    document = results_document(monitor.results(), monitor.traffic, schemas_sha256=monitor.spec.sha256,
                                server_url=", ".join(facts["servers"]) or "(recorded traffic)",
                                started_ms=started, finished_ms=int(time.time() * 1000), mode="validate",
                                extra_traffic={"files": facts["files"]})
    document = redactor(secrets).scrub_json(document)   # what is printed is what is written: no token
    return document, write_reports(Path(out), document, secrets, REPORT_TITLE)

"""Offline validation: recorded traffic (HAR files) through the same checks as the proxy's live traffic."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..model import REDACTED
from ..spec import Spec, load_spec
from .har import read_har
from .monitor import Monitor
from .outputs import results_document, write_reports
from .traffic import token_of

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
            for name, value in entry.exchange.request.headers.items():
                token = token_of(value) if name.lower() == "authorization" else None
                if token and token != REDACTED:
                    secrets.add(token)
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
    document = results_document(monitor, server_url=", ".join(facts["servers"]) or "(recorded traffic)",
                                started_ms=started, finished_ms=int(time.time() * 1000), mode="validate",
                                extra_traffic={"files": facts["files"]})
    return document, write_reports(Path(out), document, secrets, REPORT_TITLE)

"""junit.xml from a results document, in the shape pytest's junitxml gives `dxconform run` (cases only)."""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from .results_json import CHECK_KIND

UNSUPPORTED_PREFIX = "dxconform-unsupported: "   # how a run's skip reason marks an unsupported case


def _case_element(result: Mapping[str, Any]) -> tuple[str, str]:
    """(<testcase> element, its counter: '', 'failures', 'errors' or 'skipped')."""
    label, _, name = result["id"].partition("::")
    properties = "".join(f"<property name={quoteattr(k)} value={quoteattr(str(v))} />" for k, v in (
        ("area", result["area"]), ("level", result["level"]), ("profile", result["profile"]),
        ("route", " ".join(result.get("routes") or []))))
    message = result.get("message", "")
    outcome = result["outcome"]
    inner, counter = "", ""
    if outcome == "failed":
        inner, counter = f"<failure message={quoteattr(message[:1000])}>{_text(message)}</failure>", "failures"
    elif outcome == "error":
        inner, counter = f"<error message={quoteattr(message[:1000])}>{_text(message)}</error>", "errors"
    elif outcome in ("unsupported", "skipped", "xfailed"):
        reason = UNSUPPORTED_PREFIX + message if outcome == "unsupported" else message
        kind = "pytest.xfail" if outcome == "xfailed" else "pytest.skip"
        inner, counter = f"<skipped type={quoteattr(kind)} message={quoteattr(reason[:1000])}>{_text(reason)}</skipped>", \
            "skipped"
    seconds = int(result.get("duration_ms", 0)) / 1000
    element = (f"<testcase classname={quoteattr(label.replace('/', '.'))} name={quoteattr(name or label)} "
               f"time=\"{seconds:.3f}\"><properties>{properties}</properties>{inner}</testcase>")
    return element, counter


def _text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def junit_text(document: Mapping[str, Any]) -> str:
    cases = [r for r in document["results"] if r.get("kind") != CHECK_KIND]
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    elements = []
    for result in cases:
        element, counter = _case_element(result)
        elements.append(element)
        if counter:
            counts[counter] += 1
    seconds = max(0, int(document["finished"]) - int(document["started"])) / 1000
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(int(document["started"]) / 1000))
    return ('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
            f'<testsuite name="pytest" errors="{counts["errors"]}" failures="{counts["failures"]}" '
            f'skipped="{counts["skipped"]}" tests="{len(cases)}" time="{seconds:.3f}" timestamp="{stamp}" '
            f'hostname={quoteattr(socket.gethostname())}>' + "".join(elements) + "</testsuite></testsuites>")


def write_junit(path: str | Path, document: Mapping[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_text(document), encoding="utf-8")
    return path

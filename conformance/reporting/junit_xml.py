"""junit.xml from a results document: one testsuite per kind of result (cases, checks, profile claims)."""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import Outcome
from .results_json import CASE_KIND, CHECK_KIND, PROFILE_KIND

UNSUPPORTED_PREFIX = "dxconform-unsupported: "   # how a run's skip reason marks an unsupported case
SUITE_NAMES = {CASE_KIND: "dxconform.cases", CHECK_KIND: "dxconform.checks", PROFILE_KIND: "dxconform.profiles"}
# How each outcome shows in JUnit, which knows passed, failure, error and skipped; the exact outcome is the
# testcase's `outcome` property, so the file's counts and results.json's `summary` always agree.
COUNTERS = {Outcome.FAILED.value: "failures", Outcome.ERROR.value: "errors",
            Outcome.UNSUPPORTED.value: "skipped", Outcome.NOT_APPLICABLE.value: "skipped",
            Outcome.SKIPPED.value: "skipped", Outcome.XFAILED.value: "skipped"}
ELEMENTS = {"failures": "failure", "errors": "error", "skipped": "skipped"}
MESSAGE_LIMIT = 1000
# XML 1.0 forbids these characters anywhere, even escaped; a server may put them in a message. Each becomes
# U+FFFD (a translation table: no pattern is run over the text).
_NOT_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF,
                          *range(0xD800, 0xE000)], "\ufffd")


def xml_text(value: Any) -> str:
    """`value` as text XML can carry: forbidden characters become U+FFFD."""
    return str(value).translate(_NOT_XML)


def names_of(result_id: str) -> tuple[str, str]:
    """(classname, name) of a result id: `cases/a/f.yaml::c` -> (cases.a.f.yaml, c); a fuzz item's
    `fuzz/negative//file-xxxx/addTags` -> (fuzz.negative, /file-xxxx/addTags)."""
    if "::" in result_id:
        label, _, name = result_id.partition("::")
    elif "//" in result_id:
        label, _, rest = result_id.partition("//")
        name = "/" + rest
    else:
        label, name = result_id, result_id
    return label.replace("/", "."), name or label


def _testcase(result: Mapping[str, Any]) -> tuple[ET.Element, str]:
    """(<testcase>, its counter: '', 'failures', 'errors' or 'skipped')."""
    classname, name = names_of(result["id"])
    element = ET.Element("testcase", classname=xml_text(classname), name=xml_text(name),
                         time=f"{int(result.get('duration_ms', 0)) / 1000:.3f}")
    properties = ET.SubElement(element, "properties")
    for key, value in (("outcome", result["outcome"]), ("area", result["area"]), ("level", result["level"]),
                       ("profile", result["profile"]), ("route", " ".join(result.get("routes") or []))):
        ET.SubElement(properties, "property", name=key, value=xml_text(value))
    outcome = result["outcome"]
    counter = COUNTERS.get(outcome, "")
    if counter:
        message = result.get("message", "")
        if outcome == Outcome.UNSUPPORTED.value:
            message = UNSUPPORTED_PREFIX + message
        child = ET.SubElement(element, ELEMENTS[counter], message=xml_text(f"{outcome}: {message}"[:MESSAGE_LIMIT]))
        if outcome == Outcome.XFAILED.value:
            child.set("type", "pytest.xfail")
        child.text = xml_text(message)
    return element, counter


def junit_tree(document: Mapping[str, Any]) -> ET.ElementTree:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(int(document["started"]) / 1000))
    seconds = max(0, int(document["finished"]) - int(document["started"])) / 1000
    root = ET.Element("testsuites", name="dxconform", tests=str(len(document["results"])))
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for kind, suite_name in SUITE_NAMES.items():
        results = [r for r in document["results"] if r.get("kind", CASE_KIND) == kind]
        if not results:
            continue
        suite = ET.SubElement(root, "testsuite", name=suite_name, timestamp=stamp, time=f"{seconds:.3f}",
                              hostname=xml_text(socket.gethostname()), tests=str(len(results)))
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        for result in results:
            element, counter = _testcase(result)
            suite.append(element)
            if counter:
                counts[counter] += 1
        for name, count in counts.items():
            suite.set(name, str(count))
            totals[name] += count
    for name, count in totals.items():
        root.set(name, str(count))
    return ET.ElementTree(root)


def junit_text(document: Mapping[str, Any]) -> str:
    return ET.tostring(junit_tree(document).getroot(), encoding="unicode", xml_declaration=True)


def write_junit(path: str | Path, document: Mapping[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(document).write(path, encoding="utf-8", xml_declaration=True)
    return path

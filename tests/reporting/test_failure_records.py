"""Failures travel as data, end to end, and no report reads a message back.

results.json holds each failed case's record; the terminal and report.html both name the exchange the record
names, not the cleanup that ran after it; no module of conformance/reporting or conformance/pytest_plugin reads
a message with a regular expression; reruns and the gate keep the record of the attempt they report.
"""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import pytest

import conformance
from conformance.reporting.failure_section import failure_anchor

from .support import EMBEDDED_TOKEN_PREFIX, dxconform

PACKAGE = Path(conformance.__file__).resolve().parent
GOVERNED = ("reporting", "pytest_plugin")
REGEX_MODULES = frozenset({"re", "regex"})

# -- no regular expression over a message -----------------------------------------------------------------------


def regex_and_message_uses(source: str) -> tuple[list[int], list[int]]:
    """(lines importing a regular-expression module, lines touching a message: a `.message` attribute, a
    "message" key or a variable named message). A module must not have both: a message is never parsed."""
    tree = ast.parse(source)
    regex, message = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in REGEX_MODULES for a in node.names):
            regex.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in REGEX_MODULES \
                and not node.level:
            regex.append(node.lineno)
        elif (isinstance(node, ast.Attribute) and node.attr == "message") or (
                isinstance(node, ast.Constant) and node.value == "message") or (
                isinstance(node, ast.Name) and node.id == "message"):
            message.append(node.lineno)
    return regex, message


GOVERNED_FILES = sorted(p for name in GOVERNED for p in (PACKAGE / name).rglob("*.py"))


@pytest.mark.parametrize("path", GOVERNED_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_runs_a_regular_expression_where_it_reads_a_message(path: Path) -> None:
    regex, message = regex_and_message_uses(path.read_text())
    assert not (regex and message), (f"{path.relative_to(PACKAGE)} imports a regex module (line {regex[0]}) and "
                                     f"reads a message (line {message[0]}): read the failure record instead")


def test_the_modules_that_render_failures_use_no_regular_expression_at_all() -> None:
    for name in ("reporting/evidence.py", "reporting/failure_section.py", "reporting/junit_xml.py",
                 "pytest_plugin/failure_text.py", "pytest_plugin/items.py", "pytest_plugin/reruns.py"):
        assert regex_and_message_uses((PACKAGE / name).read_text())[0] == [], name


def test_the_rule_catches_the_old_way() -> None:
    old = ('import re\n_STEP = re.compile(r"(?P<method>[A-Z]+) (?P<target>/\\S*)")\n'
           'def step_failure(result):\n    return _STEP.search(result.get("message") or "")\n')
    regex, message = regex_and_message_uses(old)
    assert regex == [1] and message == [4]
    assert regex_and_message_uses("from re import compile\nx = failure.message\n") == ([1], [2])
    assert regex_and_message_uses("from . import re_names\nmessage = 1\n") == ([], [2])


# -- a fault run: the record, the terminal and the report agree -------------------------------------------------

CASES = """
defaults: {area: semantics, topic: tags, level: MUST, source: tests/reporting}
fixtures:
  fr_project:
    steps:
      - route: /project/new
        body: {name: "{run_prefix}-{case_id}"}
        save: {project: $.id}
    finally:
      - route: /{project}/destroy
        body: {terminateJobs: true}
  fr_broken:
    scope: run
    steps:
      - route: /system/whoami
        expect: {status: 418}
cases:
  - id: tags-stick
    title: addTags adds the tags
    uses: [fr_project]
    steps:
      - route: /record/new
        body: {project: "{project}", name: "{run_prefix}-r"}
        save: {record: $.id}
      - route: /{record}/addTags
        body: {project: "{project}", tags: [kept]}
      - route: /{record}/describe
        body: {project: "{project}", fields: {tags: true}}
        expect:
          values:
            $.tags: [kept]
    finally:
      # The same method and path as the failing step: only the record tells the two exchanges apart.
      - route: /{record}/describe
        body: {fields: {name: true}}
      - route: /{project}/removeObjects
        body: {objects: ["{record}"], force: true}
  - id: whoami-passes
    title: whoami answers
    steps:
      - route: /system/whoami
  - id: needs-a-broken-run-fixture-1
    title: errors, its run fixture fails
    uses: [fr_broken]
    steps:
      - route: /system/whoami
  - id: needs-a-broken-run-fixture-2
    title: errors too, sharing it
    uses: [fr_broken]
    steps:
      - route: /system/whoami
"""
TAGS_CASE = "cases/fr.yaml::tags-stick"


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("failure-records")
    cases = base / "cases"
    cases.mkdir()
    (cases / "fr.yaml").write_text(CASES)
    out = base / "out"
    proc = dxconform("run", "--cases", str(cases), "--out", str(out), "--reruns", "0", "-n", "0",
                     "--embedded-fault", "tags-do-not-stick", cwd=base)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    return out, proc.stdout


def test_every_failed_or_errored_case_holds_its_failure_record(fault_run) -> None:
    out, _ = fault_run
    document = json.loads((out / "results.json").read_text())
    cases = {r["id"]: r for r in document["results"] if r["kind"] == "case"}
    failing = {i: r for i, r in cases.items() if r["outcome"] in ("failed", "error")}
    assert {i: r["outcome"] for i, r in failing.items()} == {
        TAGS_CASE: "failed", "cases/fr.yaml::needs-a-broken-run-fixture-1": "error",
        "cases/fr.yaml::needs-a-broken-run-fixture-2": "error"}
    for result in failing.values():
        failure = result["failure"]
        assert failure["phase"] and failure["location"].startswith("cases/fr.yaml:")
        for miss in failure["misses"]:
            assert {"path", "matcher", "expected", "text"} <= set(miss)
    assert "failure" not in cases["cases/fr.yaml::whoami-passes"]
    tags = failing[TAGS_CASE]["failure"]
    assert (tags["phase"], tags["step"], tags["method"]) == ("step", 3, "POST")
    assert [(m["path"], m["matcher"], m["expected"], m["actual"]) for m in tags["misses"]] == [
        ("$.tags", "equals", ["kept"], [])]
    broken = [failing[f"cases/fr.yaml::needs-a-broken-run-fixture-{n}"]["failure"] for n in (1, 2)]
    assert [(f["phase"], f["misses"][0]["matcher"]) for f in broken] == [("run fixture", "status")] * 2
    assert broken[0]["exchange_index"] == 0 and broken[1]["exchange_index"] is None
    assert EMBEDDED_TOKEN_PREFIX not in (out / "results.json").read_text()


def test_the_terminal_and_the_report_name_the_failing_exchange_not_the_last(fault_run) -> None:
    out, stdout = fault_run
    document = json.loads((out / "results.json").read_text())
    (result,) = [r for r in document["results"] if r["id"] == TAGS_CASE]
    index = result["failure"]["exchange_index"]
    exchanges = result["exchanges"]
    failing = exchanges[index]["request"]
    method, path, sent = failing["method"], failing["path"], failing["body"]
    # Not the last exchange: the case's cleanup (a describe of the same record, then removeObjects) and the
    # fixture's (destroy) ran after it.
    assert [e["request"]["path"].rsplit("/", 1)[-1] for e in exchanges[index:]] == [
        "describe", "describe", "removeObjects", "destroy"]
    assert exchanges[index + 1]["request"]["path"] == path and exchanges[index + 1]["request"]["body"] != sent
    # The terminal: the case's failure text names that exchange (the one sent with the step's body).
    block = stdout[stdout.index("tags-stick: addTags adds the tags"):]
    lines = block.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("exchange: "))
    assert lines[at].startswith(f"exchange: {method} {path} -> 200") and lines[at + 1] == f"  sent: {sent}"
    assert f"failing step: step 3 {method} {path} (cases/fr.yaml:" in block
    # report.html: the failure's block shows the same exchange, and marks it in the list of all of them.
    page = (out / "report.html").read_text()
    start = page.index(f"id='{failure_anchor(TAGS_CASE)}'")
    section = page[start:page.index("</details>", page.index("all ", start))]
    request_block = section[section.index("<h4>request</h4><pre>"):section.index("</pre>", section.index("<h4>request"))]
    assert f"{method} http://" in request_block and path in request_block and html.escape(sent) in request_block
    marked = re.findall(r"<td class='n'>(\d+)</td><td>(\w+) <code>([^<]*)</code> &larr; failed here</td>", section)
    assert marked == [(str(index + 1), method, path)]


def test_the_run_document_with_its_records_matches_the_schema(fault_run) -> None:
    from ..pytest_plugin.support import assert_valid_results

    out, _ = fault_run
    assert_valid_results(json.loads((out / "results.json").read_text()))


# -- reruns and the gate keep the record of the attempt they report ---------------------------------------------


def _attempt(outcome, failure=None, exchanges=()):
    from conformance.model import Area, Level, Result

    return Result(id="cases/a.yaml::c", title="t", area=Area.SEMANTICS, topic="t", level=Level.MUST, profile="core",
                  outcome=outcome, source="s", message=f"{outcome.value} attempt", exchanges=list(exchanges),
                  failure=failure)


def test_reruns_and_the_gate_keep_the_reported_attempts_record() -> None:
    from conformance.gate import Expectation, apply_to_json
    from conformance.model import Failure, FailurePhase, Outcome
    from conformance.pytest_plugin.reruns import attempts_json, run_with_reruns

    first = Failure(FailurePhase.STEP, step=1, exchange_index=0, error="")
    last = Failure(FailurePhase.STEP, step=2, exchange_index=0)
    runs = iter([_attempt(Outcome.FAILED, first), _attempt(Outcome.FAILED, last)])
    numbers: list[int] = []
    final, attempts = run_with_reruns(lambda attempt: numbers.append(attempt) or next(runs), 1)
    assert numbers == [0, 1]   # each attempt knows its number (engine: case_id "<id>-r<n>" on a rerun)
    assert final.failure == last and "the same in all 2 attempts" in final.message
    assert [a.get("failure", {}).get("step") for a in attempts_json(attempts)] == [1, 2]
    # A flaky case passed in the end: no failure of its own; its failed attempt keeps one.
    runs = iter([_attempt(Outcome.FAILED, first), _attempt(Outcome.PASSED)])
    flaky, attempts = run_with_reruns(lambda _attempt: next(runs), 1)
    assert flaky.outcome == Outcome.FLAKY and flaky.failure is None
    assert attempts_json(attempts)[0]["failure"] == first.to_json() and "failure" not in attempts_json(attempts)[1]
    # The gate turns a known failure into xfailed and keeps its record.
    judged = apply_to_json(final.to_json(), {final.id: Expectation("failed", reason="known")})
    assert judged["outcome"] == "xfailed" and judged["failure"] == last.to_json()


def test_a_failed_checks_evidence_is_the_exchange_its_finding_names() -> None:
    from conformance.model import Area, Finding, Level, Outcome, Result
    from conformance.reporting.failure_section import failure_html

    from .test_report_page import CLEANUP, STATUS_MISS, TAGS_MISS

    finding = Finding(check="strict_int", level=Level.SHOULD, area=Area.DATA_TYPES, source="docs", message="m",
                      exchange_index=1)
    case = Result(id="cases/a.yaml::c", title="t", area=Area.SEMANTICS, topic="t", level=Level.MUST, profile="core",
                  outcome=Outcome.PASSED, source="s", exchanges=[STATUS_MISS, TAGS_MISS, CLEANUP],
                  findings=[finding]).to_json()
    check = Result(id="checks/strict_int::/record-xxxx/describe", title="ints", area=Area.DATA_TYPES,
                   topic="checks", level=Level.SHOULD, profile="core", outcome=Outcome.FAILED, source="docs",
                   routes=["/record-xxxx/describe"]).to_json()
    page = failure_html(dict(check, kind="check"), [dict(case, kind="case")])
    assert "Seen in case" in page
    marked = re.findall(r"<td class='n'>(\d+)</td><td>\w+ <code>([^<]*)</code> &larr; failed here", page)
    assert marked == [("2", TAGS_MISS.request.path)]

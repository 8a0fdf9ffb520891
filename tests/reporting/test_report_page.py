"""report.html's sections from a results document: scores, evidence of failures, coverage, escaping, badges."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from conformance.model import (
    Area,
    Exchange,
    Failure,
    FailurePhase,
    Finding,
    Headers,
    Level,
    Mismatch,
    Outcome,
    Request,
    Response,
    Result,
)
from conformance.reporting.badges import badges, write_badges
from conformance.reporting.coverage import coverage_map, declared_properties, totals
from conformance.reporting.evidence import MISSING, differences, failing_exchange_index
from conformance.reporting.report_page import report_sections, standalone_page
from conformance.reporting.results_json import build_document
from conformance.reporting.tallies import Score, by_route, score
from conformance.spec import load_spec

from .support import Cells

SECRET = "s3cret-token-value"
URL = "http://127.0.0.1:1"


def exchange(path: str, body: str, status: int, answer: str, route: str) -> Exchange:
    return Exchange(Request("POST", URL + path, path, Headers({"Authorization": f"Bearer {SECRET}",
                                                               "Content-Type": "application/json"}), body.encode()),
                    Response(status, Headers({"Content-Type": "application/json"}), answer.encode()), route=route)


def result(id_: str, outcome: Outcome, *, level: Level = Level.MUST, area: Area = Area.SEMANTICS,
           profile: str = "core", message: str = "", exchanges=(), findings=(), routes=("/system/whoami",),
           failure: Failure | None = None) -> dict:
    return Result(id=id_, title=f"rule of {id_}", area=area, topic="t", level=level, profile=profile,
                  outcome=outcome, source="https://documentation.dnanexus.com/x", routes=list(routes),
                  message=message, exchanges=list(exchanges), findings=list(findings), failure=failure).to_json()


def document(*results: dict, checks: tuple = ()) -> dict:
    return build_document(suite_version="0.1.0", schemas_sha256="0" * 64, server_url=URL, embedded=False,
                          started_ms=1764150000000, finished_ms=1764150002500, case_results=results,
                          check_results=checks)


TAGS_MISS = exchange("/record-B0000000000000000000000Q/describe", '{"fields": {"tags": true}}', 200,
                     '{"id": "record-B0000000000000000000000Q", "tags": ["mango", "<b>apple</b>"]}',
                     "/record-xxxx/describe")
CLEANUP = exchange("/project-B0000000000000000000000Q/destroy", "{}", 200, "{}", "/project-xxxx/destroy")
STATUS_MISS = exchange("/record-B0000000000000000000000Q/addTags", '{"tags": "a"}', 200,
                       '{"id": "record-B0000000000000000000000Q"}', "/record-xxxx/addTags")


def test_scores_round_down_and_judge_only_what_ran() -> None:
    assert score({"passed": 1999, "failed": 1}).percent == "99.9%"
    assert score({"passed": 1, "failed": 1}).percent == "50%"
    assert score({"passed": 3}).verdict == "pass" and score({"passed": 3}).percent == "100%"
    assert score({"unsupported": 2}).verdict == "unsupported" and score({"unsupported": 2}).percent == "n/a"
    assert score({"passed": 2, "xfailed": 1}).verdict == "known failures"
    assert score({"passed": 2, "error": 1}).verdict == "fail"
    assert score({"flaky": 1, "xpassed": 1}) == Score(passing=2, failing=0, known_failing=0, not_counted=0)
    assert score({}).verdict == "not run"


TAGS_FAILURE = Failure(FailurePhase.STEP, step=3, location="cases/x.yaml:9", method="POST",
                       path="/record-B0000000000000000000000Q/describe", exchange_index=1,
                       misses=(Mismatch("$.tags", "equals", "$.tags: expected 3 elements, got 2",
                                        ["mango", "<b>apple</b>", "kiwi"], ["mango", "<b>apple</b>"]),))


def test_failure_records_give_the_differences_and_the_failing_exchange() -> None:
    # The message is a summary for people: whatever it says, the record decides (here it names another step).
    failed = result("c", Outcome.FAILED, message="step 9 POST /elsewhere (z.yaml:1): anything",
                    exchanges=[STATUS_MISS, TAGS_MISS, CLEANUP], failure=TAGS_FAILURE)
    assert failing_exchange_index(failed) == 1
    [diff] = differences(failed)
    assert (diff.path, diff.matcher, diff.rule) == ("$.tags", "equals", "expect")
    assert (diff.expected, diff.actual) == (["mango", "<b>apple</b>", "kiwi"], ["mango", "<b>apple</b>"])

    envelope = Failure(FailurePhase.STEP, step=1, method="POST", path="/record-B0000000000000000000000Q/addTags",
                       exchange_index=0, misses=(
                           Mismatch("status", "status", "status 200, expected 422", 422, 200),
                           Mismatch("$.error.type", "error", "no error type", "InvalidInput", actual_missing=True)))
    failed = result("d", Outcome.FAILED, exchanges=[STATUS_MISS, CLEANUP], failure=envelope)
    assert failing_exchange_index(failed) == 0
    status, missing = differences(failed)
    assert (status.path, status.expected, status.actual, status.matcher) == ("status", 422, 200, "status")
    assert missing.path == "$.error.type" and missing.actual is MISSING and not missing.actual_known


def test_an_error_without_an_exchange_names_none() -> None:
    setup = Failure(FailurePhase.SETUP, error="could not create the work project")
    errored = result("g", Outcome.ERROR, message="could not create", exchanges=[CLEANUP], failure=setup)
    assert failing_exchange_index(errored) is None and differences(errored) == []
    out_of_range = Failure(FailurePhase.STEP, step=1, exchange_index=7)
    assert failing_exchange_index(result("h", Outcome.FAILED, exchanges=[CLEANUP], failure=out_of_range)) is None


def test_findings_are_differences_and_point_at_their_exchange() -> None:
    finding = Finding(check="strict_int", level=Level.MUST, area=Area.DATA_TYPES, source="docs", message="m",
                      path="$.created", expected="JSON integer", actual="1.5", exchange_index=1)
    answer = exchange("/system/whoami", "{}", 200, '{"created": 1.5}', "/system/whoami")
    check = Failure(FailurePhase.CHECK, step=2, method="POST", path="/system/whoami", exchange_index=1,
                    misses=(Mismatch("$.created", "strict_int", "m", "JSON integer", "1.5"),))
    failed = result("e", Outcome.FAILED, message="check strict_int: m", exchanges=[STATUS_MISS, answer, CLEANUP],
                    findings=[finding], failure=check)
    assert failing_exchange_index(failed) == 1
    [diff] = differences(failed)   # a check failure's misses are its findings: listed once
    assert (diff.rule, diff.path, diff.expected, diff.actual) == ("strict_int", "$.created", "JSON integer", "1.5")
    assert differences(result("f", Outcome.FAILED, message="internal error: x"))[0:] == []
    assert MISSING is not None and not MISSING


def test_sections_show_the_numbers_and_the_evidence() -> None:
    doc = document(
        result("cases/a.yaml::ok", Outcome.PASSED),
        result("cases/a.yaml::tags", Outcome.FAILED, area=Area.JSON_OUTPUT, exchanges=[STATUS_MISS, TAGS_MISS],
               message="step 2 POST /record-B0000000000000000000000Q/describe (a.yaml:3): $.tags: expected 3 "
                       "elements, got 2", routes=("/record-xxxx/describe",), failure=TAGS_FAILURE),
        result("cases/b.yaml::should", Outcome.FAILED, level=Level.SHOULD, message="<script>alert(1)</script>"),
        result("cases/c.yaml::applet", Outcome.UNSUPPORTED, profile="executables", routes=("/applet/new",)))
    html = report_sections(doc)
    page = Cells(html)
    assert page.by_id["dx-total-passed"] == "1" and page.by_id["dx-total-failed"] == "2"
    assert page.find(data_profile="core", data_level="MUST", data_outcome="failed") == ["1"]
    assert page.find(data_profile="core", data_level="SHOULD", data_outcome="failed") == ["1"]
    assert page.find(data_profile="executables", data_level="MUST", data_outcome="unsupported") == ["1"]
    assert page.find(data_area="json-output", data_topic=None, data_outcome="failed") == ["1"]
    assert page.by_id["dx-failure-count"] == "2"
    assert page.by_id["dx-gate"] == "1 MUST failure(s), 1 SHOULD/MAY failure(s)"
    assert page.find(data_route="/record-xxxx/describe", data_col="failed") == ["1"]
    assert page.find(data_route="/record-xxxx/describe", data_col="exchanges") == ["1"]
    assert page.find(data_route="/file-xxxx/close", data_col="exchanges") == ["0"]
    # evidence: the failing path, expected and actual, replayable commands, and never the token
    assert "$.tags" in html and "kiwi" in html and "&lt;b&gt;apple&lt;/b&gt;" in html
    assert "failing step" in html and "cases/x.yaml:9" in html
    assert "$DX_TOKEN" in html and "dxpy.DXHTTPRequest(&#x27;/record-B0000000000000000000000Q/describe&#x27;" in html
    assert SECRET not in html and "<script>" not in html
    assert page.by_id["dx-failure-cases_a.yaml__tags"].startswith("failed MUST cases/a.yaml::tags")
    # the MUST failure comes first
    assert html.index("dx-failure-cases_a.yaml__tags") < html.index("dx-failure-cases_b.yaml__should")
    full = standalone_page(doc)
    assert full.startswith("<!DOCTYPE html>") and "dxconform-report" in full
    assert not re.findall(r"<(?:script|link|img|iframe)\b", full)


def test_route_tallies_count_cases_checks_and_exchanges() -> None:
    check = result("checks/strict_int::/record-xxxx/describe", Outcome.FAILED, routes=("/record-xxxx/describe",))
    table = by_route([result("a", Outcome.PASSED, exchanges=[TAGS_MISS, CLEANUP], routes=("/record-xxxx/describe",)),
                      dict(check, kind="check")], ["/record-xxxx/describe", "/system/whoami"])
    assert list(table)[:2] == ["/record-xxxx/describe", "/system/whoami"]
    entry = table["/record-xxxx/describe"]
    assert (entry.exchanges, entry.cases["passed"], entry.checks["failed"]) == (1, 1, 1)
    assert table["/project-xxxx/destroy"].exchanges == 1        # a route no result names still counts its calls
    odd = result("b", Outcome.PASSED, routes=("/system/WhoAmI",))     # a URL-form case's concrete path
    assert "/system/WhoAmI" in by_route([odd], ["/system/whoami"])
    assert list(by_route([odd], ["/system/whoami"], only_listed=True)) == ["/system/whoami"]


def test_coverage_compares_sent_and_answered_fields_with_the_schemas() -> None:
    spec = load_spec()
    declared = declared_properties(spec, "/record-xxxx/describe", "input")
    assert {"fields", "project"} <= declared
    assert "tags" in declared_properties(spec, "/record-xxxx/describe", "output")
    assert declared_properties(spec, "/dbcluster/new", "input") is None           # a route with no schema yet
    table = coverage_map([result("a", Outcome.PASSED, exchanges=[TAGS_MISS, STATUS_MISS])], spec)
    assert len(table) == len(spec.routes) == 208
    entry = table["/record-xxxx/describe"]
    assert entry.exchanges == 1 and entry.input_seen == {"fields"} and entry.output_seen == {"id", "tags"}
    assert "project" in entry.input_unused and "tags" not in entry.output_unseen
    assert totals(table).routes_exercised == 2


def test_badges_are_svg_per_profile_and_level(tmp_path) -> None:
    doc = document(result("a", Outcome.PASSED), result("b", Outcome.FAILED, level=Level.SHOULD),
                   result("c", Outcome.UNSUPPORTED, profile="executables"))
    found = badges(doc)
    assert set(found) == {"core-MUST.svg", "core-SHOULD.svg", "executables-MUST.svg"}
    for svg in found.values():
        assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    assert "core MUST: 100%" in found["core-MUST.svg"] and "#44cc11" in found["core-MUST.svg"]
    assert "core SHOULD: 0%" in found["core-SHOULD.svg"] and "#e05d44" in found["core-SHOULD.svg"]
    assert "executables MUST: unsupported" in found["executables-MUST.svg"]
    (tmp_path / "old.svg").write_text("<svg/>")
    written = write_badges(doc, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written) == sorted(found)

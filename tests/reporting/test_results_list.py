"""report.html within its budget at ten times the suite (issue 21): in "Every result", failures named with a
link to their evidence, the other outcomes named while few and counted per file (then per folder) past that;
in the failures section, the largest causes in full and a bounded number of one-line failures."""

from __future__ import annotations

import re

from conformance.model import (
    Area,
    Exchange,
    Failure,
    FailurePhase,
    Headers,
    Level,
    Mismatch,
    Outcome,
    Request,
    Response,
    Result,
)
from conformance.reporting.failure_section import CAUSES_IN_FULL, MEMBER_LINES_AT_MOST, shown_failures
from conformance.reporting.report_page import report_sections
from conformance.reporting.results_json import build_document
from conformance.reporting.results_list import GROUPS_AT_MOST, NAMED_AT_MOST, group_counts, results_section

# The clean report's budget (issue 16), and what the page may hold besides the results of the cases.
CLEAN_BUDGET = 300 * 1024


ANSWER = Exchange(Request("POST", "http://127.0.0.1:1/system/whoami", "/system/whoami",
                          Headers({"Content-Type": "application/json"}), b"{}"),
                  Response(200, Headers({"Content-Type": "application/json"}), b'{"id": "user-alice"}' + b" " * 2000),
                  route="/system/whoami")


def case(id_: str, outcome: Outcome = Outcome.PASSED, **failed) -> dict:
    return Result(id=id_, title=f"rule of {id_}", area=Area.SEMANTICS, topic="t", level=Level.MUST, profile="core",
                  outcome=outcome, source="https://documentation.dnanexus.com/x", routes=["/system/whoami"],
                  message="" if outcome is Outcome.PASSED else "expected 200, got 500", **failed).to_json()


def suite_results(copies: int, files: int = 70, per_file: int = 25, failed: int = 0) -> list[dict]:
    """`copies` copies of a suite of `files` files of `per_file` cases; the first `failed` cases failed."""
    results = [case(f"copy-{c}/area-{f % 6}/file-{f}.yaml::case-{n}-c{c}") for c in range(copies)
               for f in range(files) for n in range(per_file)]
    for index in range(failed):
        results[index] = case(results[index]["id"], Outcome.FAILED)
    return results


def document(results: list[dict]) -> dict:
    return build_document(suite_version="0.1.0", schemas_sha256="0" * 64, server_url="http://127.0.0.1:1",
                          embedded=False, started_ms=1764150000000, finished_ms=1764150002500,
                          case_results=results, check_results=[])


def listing(html: str, outcome: str) -> str:
    found = re.search(rf"<details class='results' data-kind='case' data-outcome='{outcome}'[^>]*>(.*?)</details>",
                      html, re.S)
    assert found, f"no {outcome} listing"
    return found.group(0)


def test_few_results_are_named_and_many_are_counted_per_file() -> None:
    few = results_section(document(suite_results(1, files=2, per_file=NAMED_AT_MOST // 2)))
    assert "data-listed='named'" in listing(few, "passed") and "case-0-c0" in few
    many = results_section(document(suite_results(1, files=3, per_file=NAMED_AT_MOST)))
    passed = listing(many, "passed")
    assert "data-listed='counted'" in passed and "case-0-c0" not in passed
    assert f"<code>copy-0/area-1/file-1.yaml</code>: {NAMED_AT_MOST}" in passed
    assert "results.json" in passed


def test_failures_are_always_named_with_a_link_to_their_evidence() -> None:
    html = results_section(document(suite_results(1, files=10, per_file=50, failed=NAMED_AT_MOST + 20)))
    failed = listing(html, "failed")
    assert "data-listed='named'" in failed and " open" in failed
    assert failed.count("<a href='#dx-failure-") == NAMED_AT_MOST + 20
    assert "data-listed='counted'" in listing(html, "passed")


def test_counts_merge_into_folders_past_the_line_limit() -> None:
    results = suite_results(10, files=70, per_file=1)
    assert len(group_counts(results, at_most=1000)) == 700
    by_area = group_counts(results, at_most=GROUPS_AT_MOST)     # 700 files, then 60 area folders
    assert GROUPS_AT_MOST < 700 and len(by_area) == 60 and by_area["copy-3/area-2/"] == 12
    assert sum(by_area.values()) == 700
    assert group_counts(results, at_most=20) == {f"copy-{c}/": 70 for c in range(10)}
    checks = [case("checks/strict_int::/a/b"), case("checks/nosniff::/a/b"), case("profile-apps")]
    assert group_counts(checks) == {"checks/strict_int": 1, "checks/nosniff": 1, "profile-apps": 1}
    # merged as far as folders go: a group without one stays as it is
    assert group_counts(checks, at_most=1) == {"checks/": 2, "profile-apps": 1}


def test_the_results_list_does_not_grow_with_ten_times_the_cases() -> None:
    one = results_section(document(suite_results(1)))      # 70 files: a line each
    ten = results_section(document(suite_results(10)))     # 700 files: a line per folder
    assert "<code>copy-0/area-0/file-0.yaml</code>: 25" in one and "<code>copy-9/area-5/</code>: 275" in ten
    assert len(ten) < 2 * len(one) < 20 * 1024, (len(one), len(ten))
    page = report_sections(document(suite_results(10)))
    assert len(page.encode()) <= CLEAN_BUDGET, len(page)


FAILING_BUDGET = 1024 * 1024


def failing_document(failures: int) -> dict:
    """Ten times the suite, its first `failures` cases failed, of 300 different causes (the rule that broke)."""
    results = suite_results(10)
    for index in range(failures):
        path = f"$.field{index % 300}"
        miss = Mismatch(path, f"matcher{index % 300}", f"{path}: expected 1, got 2", 1, 2)
        failure = Failure(FailurePhase.STEP, step=1, location="cases/x.yaml:9", method="POST", path="/system/whoami",
                          exchange_index=0, misses=(miss,))
        results[index] = case(results[index]["id"], Outcome.FAILED, failure=failure, exchanges=[ANSWER])
    return document(results)


def anchors(page: str) -> tuple[set[str], set[str]]:
    """(the failure anchors in the page, the links to failure anchors)."""
    return (set(re.findall(r"id='(dx-failure-[^']+)'", page)) - {"dx-failure-count"},
            set(re.findall(r"href='#(dx-failure-[^']+)'", page)))


def test_thousands_of_failures_of_many_causes_stay_within_the_failing_budget() -> None:
    doc = failing_document(3000)
    assert len(doc["root_causes"]) == 300
    page = report_sections(doc)
    assert len(page.encode()) <= FAILING_BUDGET, len(page)
    assert page.count("(shown in full for this cause)") == CAUSES_IN_FULL
    assert page.count("<p class='member'") == MEMBER_LINES_AT_MOST
    assert "more result(s) of this cause, each in results.json" in page
    targets, links = anchors(page)
    assert len(targets) == len(shown_failures(doc)) == CAUSES_IN_FULL + MEMBER_LINES_AT_MOST
    assert "data-listed='counted'" in listing(page, "failed") and not links


def test_a_named_failure_links_to_its_evidence_only_where_the_page_has_it() -> None:
    page = report_sections(failing_document(800))      # named in "Every result"; 525 of them shown above
    targets, links = anchors(page)
    assert "data-listed='named'" in listing(page, "failed")
    assert links == targets and len(targets) == CAUSES_IN_FULL + MEMBER_LINES_AT_MOST

"""One run of the whole suite on the embedded server: one set of numbers everywhere, no score without a test.

The terminal, results.json, junit.xml, report.html and the badges must tell the same totals in the same words;
every optional profile the embedded server has none of the probed routes of is "not implemented" with
no percentage; core's score counts only results that tested something.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from conformance.model import Outcome

from ..suite.runs import Run, shared_clean_run
from .support import Cells

# Profiles of which the embedded server implements no probed route (executables it implements: applets, jobs).
OPTIONAL_PROFILES = ("databases", "misc", "notifications", "orgs-users", "projects-admin")
CLAIMED_BY_EMBEDDED = ("executables", "workflows", "apps")   # refserver.server.CLAIMED_PROFILES
PERCENT = re.compile(r"\d+(\.\d+)?%")


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    run = shared_clean_run(tmp_path_factory)
    assert run.returncode == 0 and run.results is not None, run.describe()
    return run


def _line_counts(text: str) -> dict[str, int]:
    """`860 passed, 146 unsupported` -> {"passed": 860, "unsupported": 146}."""
    return {word: int(count) for count, word in re.findall(r"(\d+) ([a-z-]+)", text)}


def _nonzero(summary: dict[str, int]) -> dict[str, int]:
    return {key: value for key, value in summary.items() if value}


def test_the_terminal_says_what_results_json_says(clean_run: Run) -> None:
    document = clean_run.results
    lines = clean_run.stdout.splitlines()
    all_line = next(line for line in lines if line.startswith("all results: "))
    assert _line_counts(all_line.split(": ", 2)[2]) == _nonzero(document["summary"])
    assert int(all_line.split(": ")[1]) == len(document["results"])
    cases_line = next(line for line in lines if line.startswith("cases: "))
    assert _line_counts(cases_line.split(": ", 2)[2]) == _nonzero(document["summary_by_kind"]["case"])
    checks_line = next(line for line in lines if line.startswith("check results"))
    assert _line_counts(checks_line.split(": ", 2)[2]) == _nonzero(document["summary_by_kind"]["check"])
    # pytest's own closing line counts the cases, in the same words (unsupported, not "skipped").
    closing = next(line for line in reversed(lines) if line.startswith("=") and " in " in line)
    pytest_counts = _line_counts(closing.split(" in ")[0])
    assert pytest_counts == _nonzero(document["summary_by_kind"]["case"]), closing
    assert "skipped" not in closing


def test_junit_xml_counts_the_same_outcomes(clean_run: Run) -> None:
    document = clean_run.results
    root = ET.parse(clean_run.out / "junit.xml").getroot()
    outcomes = Counter(prop.get("value") for prop in root.iter("property") if prop.get("name") == "outcome")
    assert _nonzero(dict(outcomes)) == _nonzero(document["summary"])
    summary = document["summary"]
    assert int(root.get("tests")) == len(document["results"])
    assert int(root.get("failures")) == summary["failed"]
    assert int(root.get("errors")) == summary["error"]
    not_judged = ("unsupported", "not-applicable", "skipped", "xfailed")
    assert int(root.get("skipped")) == sum(summary[o] for o in not_judged)
    suites = {suite.get("name"): int(suite.get("tests")) for suite in root.iter("testsuite")}
    by_kind = document["summary_by_kind"]
    assert suites == {f"dxconform.{kind}s": sum(counts.values()) for kind, counts in by_kind.items()
                      if sum(counts.values())}


def test_report_html_totals_are_results_json_summary(clean_run: Run) -> None:
    html = (clean_run.out / "report.html").read_text(encoding="utf-8")
    cells = Cells(html)
    for outcome, count in clean_run.results["summary"].items():
        assert cells.by_id[f"dx-total-{outcome}"] == str(count), outcome
    # report.html is dxconform's own page: no second set of counts in pytest's words ("146 Skipped").
    assert "pytest-html" not in html and "Skipped" not in html


def test_every_optional_profile_is_not_implemented_with_no_percentage(clean_run: Run) -> None:
    document = clean_run.results
    for profile in OPTIONAL_PROFILES:
        status = document["profiles"][profile]
        assert status["status"] == "not-implemented" and not status["detected"], profile
        assert status["probes"] and not any(p["present"] for p in status["probes"]), profile
        assert all("dxconformNoSuchMethod" in p["evidence"] for p in status["probes"]), profile
    assert document["profiles"]["core"]["status"] == "claimed"
    assert all(p["present"] for p in document["profiles"]["core"]["probes"])
    # Badges: one per optional profile, saying so; none with a percentage.
    badges = {path.name: path.read_text() for path in (clean_run.out / "badges").glob("*.svg")}
    for profile in OPTIONAL_PROFILES:
        assert "not implemented" in badges[f"{profile}.svg"]
        assert not any(name.startswith(f"{profile}-") for name in badges), profile
    # Scores only for the profiles claimed: core, and those the embedded server implements.
    assert all(document["profiles"][name]["status"] == "claimed" for name in CLAIMED_BY_EMBEDDED)
    assert not any(PERCENT.search(svg) for name, svg in badges.items()
                   if not name.startswith(tuple(f"{p}-" for p in ("core", *CLAIMED_BY_EMBEDDED))))
    # The terminal: the profile line says it, with no score.
    for profile in OPTIONAL_PROFILES:
        line = next(line for line in clean_run.stdout.splitlines() if line.strip().startswith(profile + " "))
        assert "not implemented" in line and not PERCENT.search(line.split(" - ")[0]), line
    # report.html: the profile's row has the status and no score.
    html = (clean_run.out / "report.html").read_text(encoding="utf-8")
    for profile in OPTIONAL_PROFILES:
        row = re.search(rf"<tr data-profile='{profile}'[^>]*>.*?</tr>", html, re.S)
        assert row and "data-status='not-implemented'" in row.group(0), profile
        verdict_cell = re.search(r"<td class='verdict'>(.*?)<div", row.group(0), re.S).group(1)
        assert "not implemented" in verdict_cell and not PERCENT.search(verdict_cell), profile


def optional_routes_the_reference_server_has() -> set[str]:
    """The routes of optional profiles that the reference server's own route table answers."""
    from conformance.refserver.handlers import load_all
    from conformance.spec import load_spec

    optional = {route.route for route in load_spec().routes if route.profile != "core"}
    return optional & set(load_all())


def test_no_optional_profile_case_passes_on_a_server_without_its_routes(clean_run: Run) -> None:
    from conformance.spec import load_spec

    spec = load_spec()
    served = optional_routes_the_reference_server_has()
    available = served | {route.route for route in spec.profile_routes("core")}
    keys = {route.route for route in spec.routes}

    def routes(result: dict) -> set[str]:  # the route keys a case called (not the literal paths beside them)
        return set(result["routes"]) & keys

    optional = [r for r in clean_run.items if r["kind"] == "case" and r["profile"] != "core"]
    absent = [r for r in optional if routes(r) and not routes(r) <= available]
    assert absent, "the suite has cases on optional routes the embedded server lacks"
    assert {r["outcome"] for r in absent} == {Outcome.UNSUPPORTED.value}
    assert all("does not have this route" in r["message"] for r in absent)
    # A case on routes the server does have (core and its optional ones) is judged like any other, and passes.
    present = [r for r in optional if routes(r) and routes(r) <= available]
    assert {r["outcome"] for r in present} <= {Outcome.PASSED.value}
    assert served <= {route for r in present for route in routes(r)}, "every such route has a case that ran"


def test_core_score_counts_only_results_that_tested_something(clean_run: Run) -> None:
    core_must = [r for r in clean_run.items if r["profile"] == "core" and r["level"] == "MUST"]
    judged = [r for r in core_must if r["outcome"] in ("passed", "failed", "error", "flaky", "xpassed", "xfailed")]
    not_applicable = [r for r in core_must if r["outcome"] == "not-applicable"]
    assert not_applicable, "some check applied to nothing on some core route (retry_after at least)"
    html = (clean_run.out / "report.html").read_text(encoding="utf-8")
    row = re.search(r"<tr data-profile='core' data-level='MUST'[^>]*>.*?</tr>", html, re.S).group(0)
    assert f"({len(judged)}/{len(judged)})" in row
    # retry_after applies only where a 429/503 came back: on /system/comeBackLater, whose cases ask for one (a
    # test-only route, not in the route table: its check results stand under "(no route)"). Everywhere else it
    # is not-applicable, never passed.
    retry = {r["id"]: r["outcome"] for r in clean_run.items if r["id"].startswith("checks/retry_after::")}
    asked = {key for key in retry if key.endswith("::(no route)")}
    assert asked and {retry[key] for key in asked} == {"passed"}, retry
    assert {outcome for key, outcome in retry.items() if key not in asked} == {"not-applicable"}
    line = next(line for line in clean_run.stdout.splitlines() if line.strip().startswith("core "))
    assert f"({len(judged)}/{len(judged)})" in line


def test_results_json_validates_against_its_schema(clean_run: Run) -> None:
    import json

    import jsonschema

    from conformance.resources import schemas_dir

    schema = json.loads((Path(schemas_dir()) / "meta" / "results.schema.json").read_text())
    jsonschema.validate(clean_run.results, schema)
    assert clean_run.results["format"] == "dxconform-results/2"

"""The reference server held to real platform traffic: the project's copy of the counsyl/stor recordings (dxpy
against api.dnanexus.com) imported and replayed against the embedded server; the figure, its record in
docs/real-traffic-score.json, and faults of the self-test catalogue showing up as differences."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.differential.config import platform_config
from conformance.differential.traffic_compare import MATCH_KINDS, figure_line
from conformance.differential.traffic_score import (
    CORPUS,
    RECORD_COMMAND,
    RECORD_PATH,
    import_corpus,
    measure,
    read_record,
    stale_figures,
)

REPO = Path(__file__).resolve().parents[2]
# The least share of the recorded API exchanges that must match on status, error type and key set (issue 20).
LEAST_MATCH = 0.99
# A fault's replay covers the recorded tests that exercise its route (the first few, to stay quick).
TESTS_PER_FAULT = 8


@pytest.fixture(scope="module")
def corpus() -> dict:
    return import_corpus([REPO / CORPUS])


@pytest.fixture(scope="module")
def clean(corpus):
    return measure(corpus)


def test_the_embedded_server_matches_the_recorded_platform(clean) -> None:
    traffic = clean.traffic
    print(f"\n{figure_line(traffic)}")
    assert traffic["api_exchanges"] == 2530 and traffic["storage_exchanges"] == 212
    assert traffic["matched"] >= LEAST_MATCH * traffic["api_exchanges"], figure_line(traffic)
    # Every difference left is in the ignore file with its reason: nothing is left unexplained.
    assert traffic["matched"] == traffic["api_exchanges"], figure_line(traffic)
    assert traffic["by_kind"] == {}, traffic["by_kind"]
    reasons = {rule.reason for rule in platform_config().ignore}
    assert set(traffic["ignored"]) <= reasons and all(reason.strip() for reason in traffic["ignored"])
    assert all(result["outcome"] == "passed" for result in clean.document["results"])


def test_the_recorded_figures_are_current(clean) -> None:
    record = read_record(REPO / RECORD_PATH)
    assert record is not None, f"{RECORD_PATH} is missing: run `{RECORD_COMMAND}`"
    stale = stale_figures(record, clean)
    assert not stale, f"{RECORD_PATH} is out of date ({'; '.join(stale)}): run `{RECORD_COMMAND}`, then " \
                      "`python -m conformance.docgen`"


def recorded_tests_on(corpus: dict, route: str, status: int | None = None) -> list[str]:
    """The ids of the recorded tests with an exchange on `route` (answered `status`, if given)."""
    found = []
    for case in corpus["cases"]:
        for step in case["steps"]:
            exchange = step["exchanges"][0]
            answer = exchange.get("response") or {}
            if exchange.get("route") == route and (status is None or answer.get("status") == status):
                found.append(case["id"])
                break
    return found[:TESTS_PER_FAULT]


# fault -> (the route it breaks, the recorded status that shows it, the kind of difference it leaves)
FAULTS = {
    "list-projects-of-unknown-refused": ("/file-xxxx/listProjects", None, "status"),
    "diff-changed-error-type": ("/project-xxxx/listFolder", 404, "error-type"),
    "describe-ignores-fields": ("/file-xxxx/describe", None, "only-in-candidate"),
    "folder-not-found-worded-otherwise": ("/project-xxxx/listFolder", 404, "value"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_shows_up_in_the_replay(corpus, fault) -> None:
    route, status, kind = FAULTS[fault]
    cases = recorded_tests_on(corpus, route, status)
    assert cases, f"no recorded test exercises {route}"
    replay = measure(corpus, faults=[fault], cases=cases)
    broken = replay.traffic
    assert broken["by_kind"].get(kind), (fault, broken["by_kind"])
    assert route in {r for result in replay.document["results"] for r in result["routes"]
                     if any(f["title"] == kind for f in result["findings"])}
    if kind in MATCH_KINDS:
        assert broken["by_route"][route]["matched"] < broken["by_route"][route]["exchanges"], broken["by_route"]
        assert broken["matched"] < broken["api_exchanges"]

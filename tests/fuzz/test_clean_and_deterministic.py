"""The conforming reference server gives no findings at the default budget; one seed, one request log."""

from __future__ import annotations

from conformance.fuzz import DEFAULT_EXAMPLES, FuzzConfig
from conformance.fuzz.bridge import fuzzable_routes
from conformance.fuzz.engine import run_fuzz
from conformance.model import Outcome
from conformance.refserver.containers import create_container

DETERMINISM_ROUTES = ("/record/new", "/record-xxxx/setProperties", "/file-xxxx/addTags", "/project-xxxx/update",
                      "/system/findDataObjects")


def test_the_reference_server_gives_no_findings_at_the_default_budget(refserver):
    container = create_container(refserver.app.db, "user-alice", name="lent to the fuzzer")
    # The core profile only (tests/fuzz/test_fuzz_executables.py fuzzes the executables routes).
    report = run_fuzz(FuzzConfig(refserver.url, refserver.settings.users, containers=(container,),
                                 profiles=("core",)))
    assert report.finding_list() == [], [f.to_json() for f in report.finding_list()]
    fuzzed = set(report.counts)
    # Every core route with schemas ran, except destroying the lent container.
    assert fuzzed == set(fuzzable_routes()) - {"/container-xxxx/destroy"}
    assert all(modes.get("positive", 0) + modes.get("negative", 0) > 0 for modes in report.counts.values())
    assert sum(m.get("stateful", 0) for m in report.counts.values()) >= DEFAULT_EXAMPLES
    assert report.cleanup_problems == [] and report.notes == []
    # Every project the run made is gone, and the lent container is still there.
    leftovers = [r["name"] for r in refserver.app.db.conn.execute("SELECT name FROM containers")
                 if r["name"].startswith(report.run_prefix)]
    assert leftovers == []
    assert refserver.app.db.conn.execute("SELECT 1 FROM containers WHERE id = ?", (container,)).fetchone()
    results = report.to_results()
    assert {r.id for r in results} == {"fuzz/positive", "fuzz/negative", "fuzz/stateful"}
    assert all(r.outcome is Outcome.PASSED for r in results)


def _requests(refserver, seed: int) -> list[str]:
    config = FuzzConfig(refserver.url, refserver.settings.users, examples=5, seed=seed, routes=DETERMINISM_ROUTES)
    return run_fuzz(config).requests


def test_the_same_seed_sends_the_same_requests(refserver):
    first, second = _requests(refserver, 7), _requests(refserver, 7)
    assert len(first) > 50
    assert first == second
    assert _requests(refserver, 8) != first

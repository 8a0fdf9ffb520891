"""The suite catches broken servers: each fault of the self-test catalogue is found by its killers.

A clean embedded run passes everything (exit 0). Each broken variant is the embedded server with one fault
switched on (`dxconform run --embedded-fault NAME`), restricted with `-k` to the cases around its killers;
the run's failed (or errored) results must include every killer, and a MUST fault must make it exit 1. The
catalogue (conformance.selftest) is the one table of faults and killers; `dxconform selftest` runs it all.
CI runs the quick set (one or two faults per area); DXCONFORM_ALL_VARIANTS=1 (tox -e selftest) runs all.
"""

from __future__ import annotations

import os

import pytest

from conformance.refserver.faults import FAULTS
from conformance.selftest import CATALOGUE, Entry, judge_fault, matches, quick_set
from conformance.selftest.sweep import run_suite
from conformance.spec import load_spec

from .runs import AREAS, shared_clean_run

CASES = "cases/"
FUZZ_MODULE = "conformance.refserver.faults.fuzz"
RUN_ENTRIES = CATALOGUE if os.environ.get("DXCONFORM_ALL_VARIANTS") == "1" else quick_set()


def catalogue_faults_of_the_server() -> set[str]:
    """Every fault the reference server knows, except faults/fuzz.py's (generated inputs are their killers)."""
    # differential mode's faults are tested in tests/differential
    from conformance.refserver.faults import DIFF_FAULTS

    return {name for name, f in FAULTS.items() if name not in DIFF_FAULTS
            and not any(getattr(fn, "__module__", "") == FUZZ_MODULE for fn in (f.wrap, f.request, f.response))}


def test_the_catalogue_has_forty_faults_over_all_six_areas():
    names = [e.fault for e in CATALOGUE]
    assert len(names) == len(set(names)) >= 40
    assert {e.area for e in CATALOGUE} == set(AREAS)
    assert all(e.killers and e.keyword and e.level in ("MUST", "SHOULD") for e in CATALOGUE)


def test_every_fault_of_the_server_is_in_the_catalogue():
    assert {e.fault for e in CATALOGUE} == catalogue_faults_of_the_server()


def test_the_quick_set_spans_all_six_areas_with_must_faults():
    must = [e for e in quick_set() if e.level == "MUST"]
    assert len(must) >= 8
    assert {e.area for e in must} == set(AREAS)


def test_clean_server_passes_everything(tmp_path_factory):
    """The embedded server without faults: exit 0, nothing failed, every area, every route, every killer passes
    (the session's one clean whole-suite run, shared_clean_run)."""
    run = shared_clean_run(tmp_path_factory)
    assert run.returncode == 0, run.describe()
    assert run.results is not None and run.results["format"] == "dxconform-results/2"
    assert run.results["server"]["embedded"] is True
    assert run.results["summary"]["failed"] == 0 and run.results["summary"]["error"] == 0, run.describe()
    cases = [r for r in run.items if r["id"].startswith(CASES)]
    assert len(cases) >= 250
    assert {r["area"] for r in cases} == set(AREAS)
    # core cases never end unsupported
    assert [r["id"] for r in cases if r["profile"] == "core" and r["outcome"] == "unsupported"] == []

    # every one of the 208 routes is exercised by the URL-form cases
    exercised = {route for r in cases if r["area"] == "url-forms" for route in r.get("routes", [])}
    every_route = {route.route for route in load_spec().routes}
    assert len(every_route) == 208
    assert sorted(every_route - exercised) == []

    # every killer of the catalogue exists and passes here (or, a check, finds nothing to apply to), so its
    # failing under a fault is the fault's doing
    passed = run.ids("passed") | run.ids("not-applicable")
    missing = [(e.fault, k) for e in CATALOGUE for k in e.killers if not any(matches(i, k) for i in passed)]
    assert missing == []


@pytest.mark.parametrize("entry", RUN_ENTRIES, ids=repr)
def test_broken_variant_is_caught(entry: Entry, tmp_path):
    out = tmp_path / "out"
    out.parent.mkdir(parents=True, exist_ok=True)
    code, document, seconds = run_suite(out, fault=entry.fault, keyword=entry.keyword, args=entry.args, timeout=240)
    verdict = judge_fault(entry, code, document, seconds)
    assert verdict.caught, verdict.to_json()
    if entry.level == "MUST":
        assert any(r["level"] == "MUST" and r["outcome"] in ("failed", "error") for r in document["results"])

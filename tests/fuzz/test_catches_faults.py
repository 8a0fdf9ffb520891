"""Fuzzing alone (no cases) catches each fault it is meant to catch, at a modest budget."""

from __future__ import annotations

import pytest

from conformance.fuzz import FuzzConfig, load_findings
from conformance.fuzz.engine import replay

from .conftest import faulty_server, fuzz

# fault -> (routes fuzzed, modes, finding id expected); budgets kept small so the whole file runs in seconds.
FAULT_PROBES = {
    "crash-on-long-name": (("/record/new", "/record-xxxx/rename"), ("positive",), 40,
                           "::no_server_error"),
    "crash-on-deep-details": (("/record/new", "/record-xxxx/setDetails"), ("positive",), 40,
                              "::no_server_error"),
    "accepts-wrong-type": (("/file-xxxx/addTags",), ("negative",), 40,
                           "addTags::rejects_invalid_input"),
    "float-timestamps": (("/file-xxxx/describe",), ("positive",), 15, "fuzz/positive//file-xxxx/describe::strict_int"),
    "omits-id-on-some-input": (("/record-xxxx/describe",), ("positive",), 30,
                               "fuzz/positive//record-xxxx/describe::output_schema"),
}


@pytest.mark.parametrize("fault", sorted(FAULT_PROBES))
def test_fuzzing_alone_catches(fault):
    routes, modes, examples, expected = FAULT_PROBES[fault]
    with faulty_server(fault) as server:
        report = fuzz(server, routes=routes, modes=modes, examples=examples, seed=0, shrink_seconds=1)
    caught = [f for f in report.finding_list() if expected in f.id]
    assert caught, f"{fault} not caught; findings: {[f.id for f in report.finding_list()]}"
    finding = caught[0]
    assert finding.count >= 1 and finding.seed == 0 and finding.steps
    assert finding.route in routes
    # The reproduction names the route, never the token.
    assert finding.curl.startswith("curl ") and "$DX_API_TOKEN" in finding.curl
    assert "dxpy.DXHTTPRequest(" in finding.dxpy
    assert server.token("alice") not in finding.curl + finding.dxpy


def test_findings_are_shrunk_to_the_smallest_failing_edge():
    with faulty_server("crash-on-long-name") as server:
        # Bounded by requests, not seconds, so the outcome does not depend on the machine's speed.
        report = fuzz(server, routes=("/record-xxxx/rename",), modes=("positive",), examples=40, seed=0,
                      shrink_seconds=120, shrink_requests=20)
    finding = report.finding_list()[0]
    assert finding.shrunk
    name = finding.steps[-1].body["name"]
    assert len(name) > 1000  # the fault's threshold: anything shorter would not fail


def test_a_saved_finding_replays_against_the_server(tmp_path):
    with faulty_server("accepts-wrong-type") as server:
        config = FuzzConfig(server.url, server.settings.users, routes=("/file-xxxx/addTags",),
                            modes=("negative",), examples=40, seed=0, shrink_seconds=1)
        from conformance.fuzz.engine import run_fuzz

        report = run_fuzz(config)
        report.save(tmp_path / "fuzz.json")
        saved = load_findings(tmp_path / "fuzz.json")
        assert [f.id for f in saved] == [f.id for f in report.finding_list()]
        again = replay(saved[0], config)
    assert again.reproduced and again.finding_id == saved[0].id
    with faulty_server() as clean:
        fixed = replay(saved[0], FuzzConfig(clean.url, clean.settings.users))
    assert not fixed.reproduced

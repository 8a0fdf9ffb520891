"""`error` expectations imply an error answer: their types' documented status unless one is written, never a 2xx."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.cases import CaseLoadError, load_suite
from conformance.cases.model import Expect, Step
from conformance.checks import CHECKS
from conformance.engine.expectations import documented_statuses, evaluate, expected_statuses
from conformance.model import Headers, Response
from conformance.resources import cases_dir
from conformance.selftest import CATALOGUE, judge_fault
from conformance.selftest.sweep import run_suite
from conformance.spec import load_spec

# The shipped suite has 339 steps (by file and line) with an `error` expectation, 619 with for_each expanded.
AT_LEAST = 300


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def answer(status: int, body: object) -> Response:
    return Response(status=status, headers=Headers([("Content-Type", "application/json")]),
                    body=json.dumps(body).encode())


def refusal(error_type: str, status: int = 200) -> Response:
    return answer(status, {"error": {"type": error_type, "message": "x"}})


def status_misses(expect: Expect, response: Response, spec) -> list:
    return [m for m in evaluate(expect, response, {}, spec) if m.path == "status"]


# -- every step of the shipped suite --------------------------------------------------------------------

def shipped_error_steps() -> list[tuple[str, Step]]:
    """(owner, step) for every step with an `error` expectation: cases' and fixtures' steps and `finally`
    steps, the suite loaded as `dxconform run` checks it (conformance/cli/run_cmd.py _check_case_files)."""
    cases = cases_dir()
    suite = load_suite([cases], base=cases.parent, known_checks=CHECKS)
    owners = [(f"fixture {f.name}", f.steps + f.finally_steps) for f in suite.fixtures.values()]
    owners += [(case.uid, case.steps + case.finally_steps) for case in suite.cases]
    return [(owner, step) for owner, steps in owners for step in steps if step.expect.error]


SHIPPED = shipped_error_steps()


def test_the_suite_has_many_error_expectations_so_the_sweep_below_is_not_vacuous():
    where = {str(step.location) for _, step in SHIPPED}
    print(f"{len(SHIPPED)} steps with an error expectation ({len(where)} distinct file:line)", file=sys.stderr)
    assert len(where) >= AT_LEAST
    assert len(SHIPPED) >= len(where)


@pytest.mark.parametrize(("owner", "step"), SHIPPED, ids=[f"{s.location}|{o}" for o, s in SHIPPED])
def test_no_error_expectation_is_met_by_a_200_with_the_envelope(spec, owner, step):
    """What dxpy reads as a success (any 2xx) never meets `expect: {error: ...}`, whatever else is written."""
    misses = status_misses(step.expect, refusal(step.expect.error[0]), spec)
    assert misses, f"{step.location} ({owner}) accepts HTTP 200 for {list(step.expect.error)}"
    assert misses[0].actual == 200 and "expected an error answer" in misses[0].message


def test_no_shipped_step_lists_a_success_status_next_to_an_error():
    assert [str(s.location) for _, s in SHIPPED if any(200 <= x < 300 for x in s.expect.status)] == []


# -- the rule -------------------------------------------------------------------------------------------

def test_the_documented_status_of_each_type_comes_from_the_error_table(spec):
    assert documented_statuses(("PermissionDenied",), spec) == (401,)
    assert documented_statuses(("ResourceNotFound", "PermissionDenied"), spec) == (401, 404)
    assert documented_statuses(("InvalidInput", "InvalidState"), spec) == (422,)
    assert documented_statuses(("OrgExpired",), spec) is None  # no documented status: any >= 400
    assert documented_statuses(("NoSuchType",), spec) is None
    assert expected_statuses(Expect(error=("InvalidInput",)), spec) == (422,)
    assert expected_statuses(Expect(status=(404, 405), error=("InvalidInput",)), spec) == (404, 405)
    assert expected_statuses(Expect(), spec) is None


def test_an_error_alone_implies_the_documented_status(spec):
    expect = Expect(error=("PermissionDenied",))
    assert status_misses(expect, refusal("PermissionDenied", 401), spec) == []
    [miss] = status_misses(expect, refusal("PermissionDenied", 403), spec)
    assert (miss.path, miss.expected, miss.actual) == ("status", 401, 403)
    assert miss.message.startswith("status 403, expected 401 (PermissionDenied: documented 401)")


def test_a_200_is_a_miss_with_the_documented_status_in_the_message(spec):
    [miss] = status_misses(Expect(error=("PermissionDenied",)), refusal("PermissionDenied", 200), spec)
    assert str(miss) == "status 200, expected an error answer (PermissionDenied: documented 401)"
    assert (miss.path, miss.expected, miss.actual) == ("status", 401, 200)


def test_several_types_allow_the_union_of_their_statuses(spec):
    expect = Expect(error=("ResourceNotFound", "PermissionDenied"))
    assert status_misses(expect, refusal("ResourceNotFound", 404), spec) == []
    assert status_misses(expect, refusal("PermissionDenied", 401), spec) == []
    [miss] = status_misses(expect, refusal("PermissionDenied", 422), spec)
    assert miss.expected == [401, 404]
    [miss] = status_misses(expect, refusal("ResourceNotFound", 204), spec)
    assert miss.message.startswith("status 204, expected an error answer (ResourceNotFound: documented 404; "
                                   "PermissionDenied: documented 401)")


def test_a_type_without_a_documented_status_allows_any_error_status(spec):
    expect = Expect(error=("OrgExpired",))
    for status in (400, 403, 451, 500):
        assert status_misses(expect, refusal("OrgExpired", status), spec) == []
    for status in (200, 302):
        [miss] = status_misses(expect, refusal("OrgExpired", status), spec)
        assert (miss.expected, miss.actual) == (">= 400", status)
        assert "expected an error answer (OrgExpired: no documented status)" in miss.message


def test_a_written_status_wins_but_never_admits_a_2xx(spec):
    expect = Expect(status=(401, 403), error=("PermissionDenied",))
    assert status_misses(expect, refusal("PermissionDenied", 403), spec) == []
    [miss] = status_misses(expect, refusal("PermissionDenied", 404), spec)
    assert (miss.expected, miss.actual) == ([401, 403], 404)
    # the loader refuses a 2xx next to `error`; a hand-built Expect that has one still cannot pass with it
    [miss] = status_misses(Expect(status=(200, 401), error=("PermissionDenied",)), refusal("PermissionDenied"), spec)
    assert miss.message == ("status 200, expected an error answer (PermissionDenied: documented 401; "
                            "written status [200, 401])")
    assert (miss.expected, miss.actual) == (401, 200)


def test_without_an_error_the_status_rules_are_unchanged(spec):
    assert status_misses(Expect(), answer(204, {}), spec) == []
    [miss] = status_misses(Expect(), refusal("InvalidInput", 422), spec)
    assert (miss.expected, miss.actual) == ("2xx", 422)
    assert status_misses(Expect(status=(200, 404)), refusal("ResourceNotFound", 404), spec) == []


def test_without_an_error_table_an_error_still_needs_an_error_status():
    expect = Expect(error=("PermissionDenied",))
    assert status_misses(expect, refusal("PermissionDenied", 403), None) == []
    assert status_misses(expect, refusal("PermissionDenied", 200), None)


# -- the loader -----------------------------------------------------------------------------------------

CASE_FILE = """
defaults: {area: auth, topic: t, level: MUST, source: tests/engine}
fixtures:
  f:
    steps:
      - route: /system/whoami
        expect: {status: 200}
    finally:
      - route: /system/whoami
        expect:
          error: InvalidAuthentication
          status: [401, 204]
cases:
  - id: c
    title: t
    uses: [f]
    steps:
      - route: /system/whoami
        expect: {status: [200, 401], error: [InvalidAuthentication]}
      - route: /system/whoami
        expect: {status: [401, 403], error: InvalidAuthentication}
"""


def test_the_loader_refuses_an_error_next_to_a_success_status_with_file_and_line(tmp_path):
    (tmp_path / "c.yaml").write_text(textwrap.dedent(CASE_FILE))
    with pytest.raises(CaseLoadError) as raised:
        load_suite([tmp_path], base=tmp_path)
    assert [str(e) for e in raised.value.errors] == [
        "c.yaml:12: expect has `error` and the success status 204: an error expectation is never met by a 2xx "
        "answer (drop the 2xx, or the `error`)",
        "c.yaml:19: expect has `error` and the success status 200: an error expectation is never met by a 2xx "
        "answer (drop the 2xx, or the `error`)",
    ]


def test_the_loader_accepts_error_statuses_next_to_an_error(tmp_path):
    text = textwrap.dedent(CASE_FILE).replace("[401, 204]", "[401, 403]").replace("[200, 401]", "401")
    (tmp_path / "c.yaml").write_text(text)
    assert [c.id for c in load_suite([tmp_path], base=tmp_path).cases] == ["c"]


# -- end to end: the reference server that answers every error with HTTP 200 -----------------------------

OWN_CASE = """
defaults: {area: auth, topic: errors-as-200, level: MUST, source: tests/engine}
cases:
  - id: stranger-destroy-refused
    title: bob, at CONTRIBUTE, is refused destroying alice's project (PermissionDenied, no status written)
    steps:
      - route: /system/whoami
        user: bob
        save: {bob_id: $.id}
      - route: /project/new
        body: {name: "{run_prefix}-{case_id}"}
        save: {project: $.id}
      - route: /{project}/invite
        body: {invitee: "{bob_id}", level: CONTRIBUTE, suppressEmailNotification: true}
      - route: /{project}/destroy
        user: bob
        expect: {error: PermissionDenied}
    finally:
      - route: /{project}/destroy
"""


def _run_own_case(tmp_path: Path, fault: str | None) -> dict:
    cases = tmp_path / "cases"
    cases.mkdir(parents=True)
    (cases / "own.yaml").write_text(textwrap.dedent(OWN_CASE))
    code, document, _ = run_suite(tmp_path / "out", fault=fault, cases=str(cases), timeout=120)
    assert document is not None, f"no results (exit {code})"
    [result] = [r for r in document["results"] if r["id"].endswith("::stranger-destroy-refused")]
    return {"code": code, **result}


def test_an_implied_status_holds_on_the_clean_server_and_catches_errors_as_200(tmp_path):
    """The step writes no status, so only the rule under test can catch the fault: the envelope is intact, the
    error checks look at >= 400 answers only, and destroy's output schema requires no key."""
    clean = _run_own_case(tmp_path / "clean", None)
    assert (clean["code"], clean["outcome"]) == (0, "passed"), clean
    broken = _run_own_case(tmp_path / "broken", "errors-as-200")
    assert (broken["code"], broken["outcome"]) == (1, "failed"), broken
    assert "status 200, expected an error answer (PermissionDenied: documented 401)" in json.dumps(broken)


def test_the_catalogue_entry_is_caught_by_its_killers(tmp_path):
    [entry] = [e for e in CATALOGUE if e.fault == "errors-as-200"]
    code, document, seconds = run_suite(tmp_path / "out", fault=entry.fault, keyword=entry.keyword, timeout=240)
    verdict = judge_fault(entry, code, document, seconds)
    assert verdict.caught, verdict.to_json()
    assert verdict.found == list(entry.killers)

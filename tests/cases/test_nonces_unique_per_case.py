"""Nonces of the shipped cases identify one request: a nonce a case sends to be accepted holds a value of that case
alone, so no other case, nor another copy of the suite in the same run (benchmarks/scale.py), reuses it."""

from __future__ import annotations

from conformance.cases import load_suite
from conformance.cases.model import NO_BODY, CaseSpec, Step, saved_names
from conformance.cases.template import BUILTIN_NAMES, names_in, render
from conformance.engine.config import new_run_prefix
from conformance.resources import cases_dir

SUITE = load_suite([cases_dir()], base=cases_dir().parent)
# Values every case of a run shares: a nonce made of these alone is the same in every copy of a case.
PER_RUN = BUILTIN_NAMES - {"case_id"}
PROJECT_ID = "project-" + "B" * 24   # the documented form: the class, a hyphen and 24 characters


def _case(uid_end: str) -> CaseSpec:
    return next(case for case in SUITE.cases if case.uid.endswith(uid_end))


def _steps(case: CaseSpec) -> list[Step]:
    fixtures = SUITE.fixture_order(case)
    return [step for fixture in fixtures for step in (*fixture.steps, *fixture.finally_steps)] + [
        *case.steps, *case.finally_steps]


def _per_case_names(case: CaseSpec) -> set[str]:
    """{case_id} and the values saved by the case's steps and by its fixtures of scope `case` (made anew for it)."""
    fixtures = [f for f in SUITE.fixture_order(case) if f.scope == "case"]
    steps = [*case.steps, *(step for fixture in fixtures for step in fixture.steps)]
    return {"case_id"} | {name for step in steps for name in saved_names(step)}


def _refused(step: Step) -> bool:
    """The step expects the request refused (a refused request's nonce is never stored)."""
    return bool(step.expect.status) and all(status >= 400 for status in step.expect.status)


def _accepted_nonces() -> list[tuple[CaseSpec, Step, str]]:
    return [(case, step, step.body["nonce"]) for case in SUITE.cases for step in _steps(case)
            if step.body is not NO_BODY and isinstance(step.body, dict) and isinstance(step.body.get("nonce"), str)
            and not _refused(step)]


def test_every_accepted_nonce_holds_a_value_of_its_case_alone():
    found = _accepted_nonces()
    shared = [f"{step.location}: {nonce!r}" for case, step, nonce in found
              if not (names_in(nonce) - PER_RUN) & _per_case_names(case)]
    assert shared == []
    # The cases that once sent a nonce of the run alone are among those looked at.
    ids = {case.id for case, _, _ in found}
    assert {"nonce-128-bytes-accepted", "app-new-nonce-answers-the-same-app", "nonce-with-quotes-accepted"} <= ids


def test_the_longest_nonce_is_exactly_128_bytes_and_differs_between_cases():
    (step,) = [s for s in _case("json-input/nonce.yaml::nonce-128-bytes-accepted").steps if s.route == "/record/new"]
    values = {"run_prefix": new_run_prefix(), "case_id": "nonce-128-bytes-accepted", "project": PROJECT_ID}
    nonce = render(step.body["nonce"], values)
    assert len(nonce.encode("utf-8")) == 128
    other = render(step.body["nonce"], {**values, "project": "project-" + "C" * 24})
    assert other != nonce and len(other.encode("utf-8")) == 128


def test_the_refused_nonce_is_one_byte_longer():
    (step,) = [s for s in _case("json-input/nonce.yaml::nonce-129-bytes-refused").steps if s.route == "/record/new"]
    assert len(step.body["nonce"].encode("utf-8")) == 129 and _refused(step)

"""Fuzzing covers the workflows and apps routes: in the plan with their profiles, harmless app code, what
clients send (run input, the current editVersion), the stateful chains workflow/new -> addStage -> run ->
analysis describe and app/new -> publish -> run, every analysis and job ended and every app deleted, a clean
server found clean, and a planted fault caught."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.engine.profiles import DETECTED, NOT_IMPLEMENTED
from conformance.fuzz import FuzzConfig
from conformance.fuzz.bridge import FUZZ_PROFILES, fuzzable_routes
from conformance.fuzz.choices import as_strategy
from conformance.fuzz.engine import replay
from conformance.fuzz.executables import HARMLESS_CODE, as_clients_send, fixed_path, harmless
from conformance.fuzz.steps import placeholder
from conformance.fuzz.strategies import Planner
from conformance.pytest_plugin.fuzz_plan import fuzzed_profiles
from conformance.refserver.faults.registry import FAULTS, Fault
from conformance.spec import load_spec

from .conftest import faulty_server, fuzz
from .pool_support import pool_bindings, pool_slots

WORKFLOW_CHAIN = ("/workflow/new", "/workflow-xxxx/addStage", "/workflow-xxxx/run", "/analysis-xxxx/describe")
APP_CHAIN = ("/app/new", "/app-xxxx/publish", "/app-xxxx/run", "/job-xxxx/describe")
ENDED_JOB = ("done", "failed", "terminated")
ENDED_ANALYSIS = ("done", "failed", "terminated")
PREFIX = "dxc-fuzz-test"
PLANTED = "test-analysis-tags-from-a-string"




def _rows(server, sql: str) -> list:
    return list(server.app.db.conn.execute(sql))


def _wait_all_ended(server, seconds: float = 10.0) -> tuple[list[str], list[str]]:
    """The states of every job and analysis, once all have ended (or the time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        jobs = [r["state"] for r in _rows(server, "SELECT state FROM jobs")]
        analyses = [r["state"] for r in _rows(server, "SELECT state FROM analyses")]
        if (all(s in ENDED_JOB for s in jobs) and all(s in ENDED_ANALYSIS for s in analyses)) \
                or time.monotonic() > deadline:
            return jobs, analyses
        time.sleep(0.1)


def _made_by_the_run(log: list[str], slot_class: str, method: str) -> bool:
    """Whether the log holds a call of `method` on an object of `slot_class` that a sequence step made."""
    return any(line.startswith(f"POST /<{slot_class}#") and line.split()[1].endswith(f"/{method}") for line in log)


# -- the plan ---------------------------------------------------------------------------------------------
def test_the_workflows_and_apps_routes_are_in_the_fuzz_plan_only_with_their_profiles():
    everything = fuzzable_routes(profiles=FUZZ_PROFILES)
    workflows = fuzzable_routes(profiles=("workflows",))
    apps = fuzzable_routes(profiles=("apps",))
    assert set(WORKFLOW_CHAIN[:-1]) <= set(workflows) and "/system/findAnalyses" in workflows
    assert set(APP_CHAIN[:-1]) <= set(apps) and "/globalworkflow-xxxx/run" in apps
    assert (set(workflows) | set(apps)) <= set(everything)
    assert not (set(workflows) | set(apps)) & set(fuzzable_routes(profiles=("core", "executables")))
    status = {name: SimpleNamespace(status=name) for name in (DETECTED, NOT_IMPLEMENTED)}
    assert fuzzed_profiles({"workflows": status[DETECTED]}) == ("core", "workflows")
    assert fuzzed_profiles({"apps": status[DETECTED], "workflows": status[NOT_IMPLEMENTED]}) == ("core", "apps")


# -- what the fuzzer fixes --------------------------------------------------------------------------------
def test_app_update_code_is_fixed_and_runs_get_a_project_and_an_input():
    drawn = {"runSpec": {"interpreter": "bash", "code": "rm -rf /", "distribution": "Ubuntu"}, "title": "t"}
    fixed = as_clients_send("/app-xxxx/update", drawn)
    assert fixed["runSpec"] == {"interpreter": "bash", "code": HARMLESS_CODE["bash"], "distribution": "Ubuntu"}
    assert fixed["title"] == "t"
    assert fixed_path("/app-xxxx/update", ("runSpec", "code"))
    for route in ("/workflow-xxxx/run", "/globalworkflow-xxxx/run", "/app-xxxx/run"):
        assert as_clients_send(route, {}) == {"project": placeholder("project"), "input": {}}
        assert as_clients_send(route, {"project": "project-x", "input": {"a": 1}}) == {"project": "project-x",
                                                                                        "input": {"a": 1}}
    assert fixed_path("/workflow-xxxx/addStage", ("editVersion",))
    assert not fixed_path("/workflow-xxxx/addStage", ("executable",))
    assert harmless("/app-xxxx/describe", drawn) is drawn


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), positive=st.booleans())
def test_generated_app_updates_only_ever_carry_the_fixed_code(data, positive):
    planner = Planner(load_spec(), PREFIX)
    maker = planner.positive if positive else planner.negative
    steps = data.draw(as_strategy(maker("/app-xxxx/update", pool_slots(), pool_bindings())))
    run_spec = steps[-1].body.get("runSpec") if isinstance(steps[-1].body, dict) else None
    code = run_spec.get("code") if isinstance(run_spec, dict) else None
    assert not isinstance(code, str) or code in HARMLESS_CODE.values()


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_app_names_carry_the_run_prefix(data):
    planner = Planner(load_spec(), PREFIX)
    route = data.draw(st.sampled_from(["/app/new", "/globalworkflow/new"]))
    steps = data.draw(as_strategy(planner.positive(route, pool_slots(), pool_bindings())))
    name = steps[-1].body.get("name")
    assert not isinstance(name, str) or name.startswith(f"{PREFIX}-")


# -- the stateful chains ----------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_analysis_steps_only_follow_the_run_that_made_their_analysis(data):
    planner = Planner(load_spec(), PREFIX)
    steps = data.draw(planner.sequence(list(WORKFLOW_CHAIN), pool_slots(), pool_bindings(), 6))
    made: set[str] = set()
    for step in steps:
        if step.route.startswith("/analysis-xxxx/"):
            assert step.subject in made and step.subject.startswith("analysis#")
        if step.route == "/workflow-xxxx/run":
            assert step.creates and step.creates.startswith("analysis#") and step.subject.startswith("workflow#")
        if step.creates:
            made.add(step.creates)


def test_the_workflow_chain_edits_runs_and_describes_and_every_analysis_ends():
    with faulty_server() as server:
        report = fuzz(server, routes=WORKFLOW_CHAIN, modes=("stateful",), examples=8, seed=3)
        assert report.finding_list() == [], [f.to_json() for f in report.finding_list()]
        assert report.cleanup_problems == []
        log = report.requests
        assert _made_by_the_run(log, "workflow", "addStage")
        assert _made_by_the_run(log, "workflow", "run")
        assert _made_by_the_run(log, "analysis", "describe")
        # addStage went through with the current editVersion, read just before: an edited workflow was run.
        runs = [json.loads(r["workflow"]) for r in _rows(server, "SELECT workflow FROM analyses")]
        assert any(run.get("editVersion", 0) > 0 and run.get("stages") for run in runs), runs
        jobs, analyses = _wait_all_ended(server)
        assert all(s in ENDED_JOB for s in jobs) and all(s in ENDED_ANALYSIS for s in analyses), (jobs, analyses)


def test_the_app_chain_publishes_and_runs_and_every_app_is_deleted():
    with faulty_server() as server:
        report = fuzz(server, routes=APP_CHAIN, modes=("stateful",), examples=8, seed=1)
        assert report.finding_list() == [], [f.to_json() for f in report.finding_list()]
        assert report.cleanup_problems == []
        log = report.requests
        assert _made_by_the_run(log, "app", "publish") and _made_by_the_run(log, "app", "run")
        assert _made_by_the_run(log, "job", "describe")
        apps = _rows(server, "SELECT id, published, deleted FROM global_executables WHERE class = 'app'")
        assert any(r["published"] for r in apps), "no app was published"
        assert all(r["deleted"] for r in apps), "an app the run made was left undeleted"
        app_jobs = _rows(server, "SELECT state FROM jobs WHERE executable LIKE 'app-%'")
        assert app_jobs, "no app job was started"
        jobs, _ = _wait_all_ended(server)
        assert all(s in ENDED_JOB for s in jobs), jobs


# -- a few examples of every route ------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["workflows", "apps"])
def test_a_few_examples_of_every_route_find_nothing(profile):
    routes = tuple(fuzzable_routes(profiles=(profile,)))
    with faulty_server() as server:
        report = fuzz(server, routes=routes, modes=("positive", "negative"), examples=1, seed=5)
        assert report.finding_list() == [], [f.to_json() for f in report.finding_list()]
        assert report.cleanup_problems == [] and report.notes == []
        assert set(report.counts) == set(routes)
        jobs, analyses = _wait_all_ended(server)
        assert all(s in ENDED_JOB for s in jobs) and all(s in ENDED_ANALYSIS for s in analyses), (jobs, analyses)
        assert all(r["deleted"] for r in _rows(server, "SELECT deleted FROM global_executables"))


# -- a broken server --------------------------------------------------------------------------------------
def _tags_as_list(handler):
    def tagging(ctx, inp):
        if isinstance(inp, dict) and isinstance(inp.get("tags"), str):
            inp = {**inp, "tags": [inp["tags"]]}
        return handler(ctx, inp)
    return tagging


@pytest.fixture()
def planted_fault(monkeypatch):
    """A fault planted for this test only: /analysis-xxxx/addTags takes a string as one tag."""
    monkeypatch.setitem(FAULTS, PLANTED, Fault(PLANTED, "json-input", "addTags of an analysis refuses tags that "
                                               "are not an array", routes=("/analysis-xxxx/addTags",),
                                               wrap=_tags_as_list))
    return PLANTED


def test_fuzzing_catches_an_analysis_add_tags_that_takes_a_string(planted_fault):
    finding_id = "fuzz/negative//analysis-xxxx/addTags::rejects_invalid_input"
    with faulty_server(planted_fault) as server:
        report = fuzz(server, routes=("/analysis-xxxx/addTags",), modes=("negative",), examples=40, seed=0,
                      shrink_seconds=5)
        caught = report.findings.get(finding_id)
        assert caught is not None, [f.id for f in report.finding_list()]
        assert replay(caught, FuzzConfig(server.url, server.settings.users)).reproduced
        assert report.cleanup_problems == []
    assert caught.profile == "workflows" and "tags" in (caught.steps[-1].violation or "")
    with faulty_server() as clean:
        assert not replay(caught, FuzzConfig(clean.url, clean.settings.users)).reproduced

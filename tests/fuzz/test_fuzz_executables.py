"""Fuzzing covers the executables routes: in the plan when the server has the profile, harmless applets, the
stateful chain applet/new -> run -> job describe/terminate, every job ended, and a broken /applet/new caught."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.engine.profiles import CLAIMED, DETECTED, NOT_IMPLEMENTED
from conformance.fuzz import FuzzConfig
from conformance.fuzz.bridge import FUZZ_PROFILES, fuzzable_routes
from conformance.fuzz.choices import as_strategy
from conformance.fuzz.engine import replay, run_fuzz
from conformance.fuzz.executables import HARMLESS_CODE, harmless
from conformance.fuzz.strategies import Planner
from conformance.pytest_plugin.fuzz_items import FuzzItem
from conformance.pytest_plugin.fuzz_plan import FuzzPlan, fuzzed_profiles
from conformance.spec import load_spec

from ..pytest_plugin.support import TINY_CASES, run_pytest
from .conftest import faulty_server, fuzz
from .pool_support import pool_bindings, pool_slots

EXECUTABLES_ROUTES = ("/applet/new", "/applet-xxxx/run", "/applet-xxxx/describe", "/applet-xxxx/get",
                      "/job-xxxx/describe", "/job-xxxx/terminate", "/job/new", "/system/findExecutions",
                      "/system/findJobs", "/system/describeExecutions")
CHAIN = ("/applet/new", "/applet-xxxx/run", "/job-xxxx/describe", "/job-xxxx/terminate")
ENDED = ("done", "failed", "terminated")
PREFIX = "dxc-fuzz-test"




def _job_states(server) -> list[str]:
    return [r["state"] for r in server.app.db.conn.execute("SELECT state FROM jobs")]


def _wait_all_ended(server, seconds: float = 10.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        states = _job_states(server)
        if all(s in ENDED for s in states) or time.monotonic() > deadline:
            return states
        time.sleep(0.1)


# -- the plan ---------------------------------------------------------------------------------------------
def test_the_executables_routes_are_in_the_fuzz_plan_only_with_their_profile():
    everything = fuzzable_routes(profiles=FUZZ_PROFILES)
    core = fuzzable_routes()
    assert set(EXECUTABLES_ROUTES) <= set(everything)
    assert not set(EXECUTABLES_ROUTES) & set(core)
    assert everything[: len(core)] == core          # core first, in the export's order
    # The run's plan: core always; executables when claimed or detected, never when not implemented.
    status = {name: SimpleNamespace(status=name) for name in (CLAIMED, DETECTED, NOT_IMPLEMENTED)}
    assert fuzzed_profiles({}) == ("core",)
    assert fuzzed_profiles({"executables": status[NOT_IMPLEMENTED]}) == ("core",)
    assert fuzzed_profiles({"executables": status[DETECTED]}) == ("core", "executables")
    assert fuzzed_profiles({"executables": status[CLAIMED], "orgs-users": status[DETECTED]}) == ("core", "executables")


def _collected_fuzz_items(tmp_path: Path, *args: str) -> list[str]:
    proc = run_pytest(["--collect-only", "-q", str(TINY_CASES), "--dx-fuzz-examples", "1", "--dx-fuzz-mode",
                       "negative", *args], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if line.startswith("fuzz/")]


def test_a_run_has_a_fuzz_item_per_executables_route_unless_another_profile_is_asked_for(tmp_path):
    items = _collected_fuzz_items(tmp_path)
    assert {f"fuzz/negative::{route}" for route in EXECUTABLES_ROUTES} <= set(items)
    # --dx-profile selects fuzz items as it selects cases: core always, other profiles only when named.
    other = _collected_fuzz_items(tmp_path, "--dx-profile", "orgs-users")
    assert "fuzz/negative::/file-xxxx/addTags" in other
    assert not [item for item in other if "applet" in item or "job" in item or "Executions" in item]


def test_an_executables_item_is_unsupported_when_the_server_lacks_the_profile():
    item = object.__new__(FuzzItem)        # only what _not_fuzzed reads
    item.route, item.profile = "/applet/new", "executables"
    plan = FuzzPlan(examples=1, seed=0, modes=(), containers=(), fuzz_only=True)
    unsupported, why = item._not_fuzzed(plan)
    assert unsupported and "profile executables not implemented" in why
    assert item._not_fuzzed(FuzzPlan(examples=1, seed=0, modes=(), containers=(), fuzz_only=True,
                                      profiles=("core", "executables"))) is None


def test_without_a_profile_list_the_run_fuzzes_the_profiles_the_server_has(refserver):
    report = run_fuzz(FuzzConfig(refserver.url, refserver.settings.users, examples=1, modes=("stateful",),
                                 seed=3))
    assert report.profiles == ["apps", "core", "executables", "workflows"]
    core_only = run_fuzz(FuzzConfig(refserver.url, refserver.settings.users, examples=1, modes=("stateful",),
                                    seed=3, profiles=("core",)))
    assert core_only.profiles == ["core"]
    assert not any("applet" in line for line in core_only.requests)


# -- harmless applets -------------------------------------------------------------------------------------
def test_applet_code_is_fixed_whatever_was_drawn():
    drawn = {"project": "project-x", "runSpec": {"interpreter": "python3", "code": "import os; os.system('rm')",
                                                 "distribution": "Ubuntu"}, "inputSpec": [{"name": "a", "class": "int"}]}
    fixed = harmless("/applet/new", drawn)
    assert fixed["runSpec"] == {"interpreter": "python3", "code": HARMLESS_CODE["python3"], "distribution": "Ubuntu"}
    assert fixed["inputSpec"] == drawn["inputSpec"]          # the inputSpec stays generated
    odd = harmless("/applet/new", {"runSpec": {"interpreter": 7, "code": "rm -rf /"}})
    assert odd["runSpec"]["code"] == HARMLESS_CODE["bash"]
    assert harmless("/record/new", drawn) is drawn


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), positive=st.booleans())
def test_generated_applets_only_ever_carry_the_fixed_code(data, positive):
    planner = Planner(load_spec(), PREFIX)
    maker = planner.positive if positive else planner.negative
    steps = data.draw(as_strategy(maker("/applet/new", pool_slots(), pool_bindings())))
    run_spec = steps[-1].body.get("runSpec") if isinstance(steps[-1].body, dict) else None
    code = run_spec.get("code") if isinstance(run_spec, dict) else None
    # Negative bodies may carry a code of the wrong type (never runnable) or none; text is always ours.
    assert not isinstance(code, str) or code in HARMLESS_CODE.values()
    if positive:
        assert steps[-1].edge is None or "runSpec.code" not in steps[-1].edge


# -- the stateful chain -----------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_job_steps_only_follow_the_run_that_made_their_job(data):
    planner = Planner(load_spec(), PREFIX)
    steps = data.draw(planner.sequence(list(CHAIN), pool_slots(), pool_bindings(), 6))
    made: set[str] = set()
    for step in steps:
        if step.route.startswith("/job-xxxx/"):
            assert step.subject in made and step.subject.startswith("job#")
        if step.route == "/applet-xxxx/run":
            assert step.creates and step.creates.startswith("job#") and step.subject.startswith("applet#")
        if step.creates:
            made.add(step.creates)


def test_the_chain_runs_clean_and_every_job_it_started_ends(refserver):
    report = run_fuzz(FuzzConfig(refserver.url, refserver.settings.users, routes=CHAIN, modes=("stateful",),
                                 examples=4, seed=1))
    assert report.finding_list() == [], [f.to_json() for f in report.finding_list()]
    assert report.cleanup_problems == []
    # The links: a created applet feeds run, the job it made feeds describe and terminate.
    log = report.requests
    assert any(line.startswith("POST /<applet#") and line.split()[1].endswith("/run") for line in log)
    assert any(line.startswith("POST /<job#") and line.split()[1].endswith("/describe") for line in log)
    assert any(line.startswith("POST /<job#") and line.split()[1].endswith("/terminate") for line in log)
    assert _job_states(refserver), "the chain started no job"
    assert all(s in ENDED for s in _wait_all_ended(refserver))
    assert not refserver.app.jobs.runner.running()


def test_the_same_seed_sends_the_same_executables_requests(refserver):
    def requests(seed: int) -> list[str]:
        config = FuzzConfig(refserver.url, refserver.settings.users, routes=CHAIN, examples=2, seed=seed)
        return run_fuzz(config).requests

    first = requests(4)
    assert any("/terminate" in line for line in first)     # jobs started, and ended, are in the log
    assert first == requests(4)
    assert requests(5) != first


# -- a few examples of every executables route ------------------------------------------------------------
def test_a_few_examples_of_every_executables_route_find_nothing(refserver):
    routes = tuple(fuzzable_routes(profiles=("executables",)))
    report = run_fuzz(FuzzConfig(refserver.url, refserver.settings.users, routes=routes,
                                 modes=("positive", "negative"), examples=2, seed=5))
    assert report.finding_list() == [], [f.to_json() for f in report.finding_list()]
    assert report.cleanup_problems == [] and report.notes == []
    assert set(report.counts) == set(routes)
    assert all(s in ENDED for s in _wait_all_ended(refserver))


# -- what the fuzzer found the reference server took (fixed in handlers/applets.py) -------------------------
BASH = {"interpreter": "bash", "code": "true"}
BAD_RUN_SPECS = [{"executionPolicy": "fuzz"}, {"restartableEntryPoints": True}, {"execDepends": "fuzz"},
                 {"execDepends": [{"version": "1"}]}, {"bundledDepends": [{"name": "a", "id": "file-x"}]},
                 {"bundledDepends": [{"name": "a", "id": {"$dnanexus_link": {"id": {"fuzz": 1}}}}]},
                 {"systemRequirements": {"main": "fuzz"}}, {"systemRequirements": {"*": {"instanceType": 7}}},
                 {"headJobOnDemand": "yes"}, {"executionPolicy": {"maxRestarts": 1.5}}]
BAD_RUN_OPTIONS = [{"details": 1.5}, {"debug": {"debugOn": "fuzz"}}, {"allowSSH": [7]}, {"costLimit": -1},
                   {"maxJobSpotWaitTime": "soon"}, {"systemRequirements": {"main": []}},
                   {"systemRequirementsByExecutable": {"applet-x": {"main": 1}}}]


@pytest.mark.parametrize("bad", BAD_RUN_SPECS, ids=lambda bad: next(iter(bad)))
def test_applet_new_refuses_a_run_spec_key_of_the_wrong_shape(client, project, bad):
    body = {"project": project, "dxapi": "1.0.0", "runSpec": {**BASH, **bad}}
    client.expect_error("/applet/new", body, "InvalidInput", 422)
    client.ok("/applet/new", {**body, "runSpec": BASH})


@pytest.mark.parametrize("bad", [{"httpsApp": 7}, {"treeTurnaroundTimeThreshold": "1h"}], ids=str)
def test_applet_new_refuses_an_applet_key_of_the_wrong_type(client, project, bad):
    body = {"project": project, "dxapi": "1.0.0", "runSpec": BASH}
    client.expect_error("/applet/new", {**body, **bad}, "InvalidInput", 422)


@pytest.mark.parametrize("bad", BAD_RUN_OPTIONS, ids=lambda bad: next(iter(bad)))
def test_applet_run_refuses_a_run_option_of_the_wrong_shape(client, project, bad):
    applet = client.ok("/applet/new", {"project": project, "dxapi": "1.0.0", "runSpec": BASH})["id"]
    # dependsOn an open record: the job never starts, and is terminated at once.
    record = client.ok("/record/new", {"project": project})["id"]
    body = {"project": project, "input": {}, "dependsOn": [record]}
    client.expect_error(f"/{applet}/run", {**body, **bad}, "InvalidInput", 422)
    job = client.ok(f"/{applet}/run", body)["id"]
    client.ok(f"/{job}/terminate", {})


# -- a broken server --------------------------------------------------------------------------------------
def test_fuzzing_catches_an_applet_new_that_takes_an_invalid_io_spec():
    with faulty_server("applet-ignores-bad-io-spec") as server:
        report = fuzz(server, routes=("/applet/new",), modes=("negative",), examples=40, seed=0,
                      shrink_seconds=5)
        caught = report.findings.get("fuzz/negative//applet/new::rejects_invalid_input")
        assert caught is not None, [f.id for f in report.finding_list()]
        assert replay(caught, FuzzConfig(server.url, server.settings.users)).reproduced
    assert caught.profile == "executables" and caught.to_result().profile == "executables"
    violation = caught.steps[-1].violation or ""
    assert "inputSpec" in violation or "outputSpec" in violation, violation
    with faulty_server() as clean:
        assert not replay(caught, FuzzConfig(clean.url, clean.settings.users)).reproduced

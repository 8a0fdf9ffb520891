"""What makes the fuzzer fast keeps its results: the plan of bodies, the budget's early end, pipelined sends."""

from __future__ import annotations

import json
import random
import time

from hypothesis import strategies as st

from conformance.fuzz import FuzzConfig
from conformance.fuzz.drive import BudgetMet, explore
from conformance.fuzz.engine import run_fuzz
from conformance.fuzz.generate_bodies import pattern_strings
from conformance.fuzz.session import Session
from conformance.fuzz.steps import placeholder
from conformance.fuzz.strategies import Planner, in_subject_project, planned_bodies
from conformance.spec import load_spec

from .conftest import faulty_server, fuzz

ROUTE = "/record-xxxx/setProperties"
PIPELINE_ROUTES = ("/record/new", "/file-xxxx/addTags", "/project-xxxx/destroy")


def test_a_plan_is_the_same_on_every_draw_distinct_valid_and_shortest_first():
    spec = load_spec()
    plan = planned_bodies(spec, ROUTE, 5, 6)
    planned_bodies.cache_clear()   # drawn again from scratch, not read from the cache
    pattern_strings.cache_clear()
    assert planned_bodies(spec, ROUTE, 5, 6) == plan
    assert planned_bodies(spec, ROUTE, 6, 6) != plan
    assert 1 < len(plan) <= 6 and len(set(plan)) == len(plan)
    assert [len(text) for text in plan] == sorted(len(text) for text in plan)
    validator = spec.validator(ROUTE, "input")
    assert all(validator.is_valid(json.loads(text)) for text in plan)


def test_both_modes_of_a_route_pick_their_bodies_from_one_plan():
    planner = Planner(load_spec(), "dxc-fuzz-test", seed=3, plan_size=4)
    assert planner.plan(ROUTE) is planner.plan(ROUTE)
    assert Planner(load_spec(), "dxc-fuzz-other", seed=3, plan_size=4).plan(ROUTE) == planner.plan(ROUTE)


def test_a_met_budget_ends_the_run_without_replaying_the_last_example():
    calls = []

    def on_example(value):
        calls.append(value)
        if len(calls) > 5:
            raise BudgetMet()

    assert explore(st.integers(), 1, 50, on_example) is None
    # Five examples, then the one that met the budget; a failing test would have been replayed once more.
    assert len(calls) == 6


def test_a_data_object_call_names_the_pool_project_where_its_object_is():
    body = {"project": placeholder("project_home"), "tags": ["a"]}
    assert in_subject_project("/file-xxxx/addTags", body)["project"] == placeholder("project")
    lent = {"project": placeholder("container0"), "name": "n"}   # a lent container holds none of the pool's objects
    assert in_subject_project("/record-xxxx/rename", lent) == {"project": placeholder("project"), "name": "n"}
    assert in_subject_project("/record-xxxx/rename", {"project": "project-" + "A" * 24}) == \
        {"project": "project-" + "A" * 24}   # not a pool slot: as drawn
    assert in_subject_project("/project-xxxx/clone", body) == body   # not a data object's route
    assert in_subject_project("/file-xxxx/addTags", "not an object") == "not an object"


def test_pipelined_sends_keep_the_order_drawn_however_long_each_request_takes(refserver, monkeypatch):
    """The sender thread sends while this one draws: the log must be the order drawn, whatever the timing."""
    def run() -> list[str]:
        config = FuzzConfig(refserver.url, refserver.settings.users, examples=4, seed=9, routes=PIPELINE_ROUTES,
                            modes=("positive", "negative"))
        return run_fuzz(config).requests

    steady = run()
    jitter = random.Random(0)
    call = Session.call

    def slow_call(self, *args, **kwargs):
        time.sleep(jitter.uniform(0, 0.004))
        return call(self, *args, **kwargs)

    monkeypatch.setattr(Session, "call", slow_call)
    assert run() == steady
    assert len(steady) > 30


def test_a_core_route_pool_holds_only_what_the_route_names():
    planner = Planner(load_spec(), "dxc-fuzz-test", seed=1, plan_size=8)
    assert "record" in planner.pool_classes("/record-xxxx/describe")
    assert "file" not in planner.pool_classes("/record-xxxx/describe")
    assert "file" in planner.pool_classes("/file-xxxx/close")
    with faulty_server() as server:
        report = fuzz(server, routes=("/record-xxxx/describe",), modes=("positive",), examples=4, seed=1)
    made = [line.split()[1] for line in report.requests]
    assert "/record/new" in made and "/file/new" not in made and not any("upload" in r for r in made)
    assert report.cleanup_problems == [] and sum(report.counts["/record-xxxx/describe"].values()) == 4


def test_explore_and_shrink_do_not_work_out_a_database_key(monkeypatch):
    """Hypothesis would read and tokenize the test's source for a key no database uses, on every run."""
    import hypothesis.core

    from conformance.fuzz.drive import shrink

    def refuse(function):
        raise AssertionError("function_digest called")

    monkeypatch.setattr(hypothesis.core, "function_digest", refuse)
    seen: list = []
    assert explore(st.integers(), 1, 5, seen.append) is None and len(seen) == 5
    failing: list = []
    shrink(st.integers(0, 100), 1, 20, lambda value: value >= 50 and not failing.append(value))
    assert failing and min(failing) == 50

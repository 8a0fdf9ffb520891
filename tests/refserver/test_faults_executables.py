"""Every fault of applets and jobs (faults/executables.py) changes what the reference server does, as its rule says.

Each probe makes the same calls against a clean server and against one with the fault on (real servers on
loopback: the jobs are real processes, short bash or python3 code) and returns what it observed; the test
asserts both observations. The clean server is shared by the module (each probe works in a fresh project).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.faults import EXECUTABLE_FAULTS
from conformance.refserver.server import RefServer

TERMINAL = ("done", "failed", "terminated")
UBUNTU = {"distribution": "Ubuntu", "release": "24.04", "version": "0"}
ECHO_CODE = 'main() {\n  dx-jobutil-add-output total "$number" --class=int\n}\n'
SLEEP_CODE = "main() {\n  sleep 30\n}\n"


class Client:
    def __init__(self, server: RefServer):
        self.url = server.url

    def call(self, path: str, body: Any = None, user: str = "alice", token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or FIXED_TOKENS[user]}"}
        r = requests.post(self.url + path, json={} if body is None else body, headers=headers, timeout=30)
        return r.status_code, r.json()

    def ok(self, path: str, body: Any = None, user: str = "alice") -> Any:
        status, parsed = self.call(path, body, user)
        assert status == 200, (path, status, parsed)
        return parsed

    def project(self, user: str = "alice") -> str:
        return self.ok("/project/new", {"name": "p"}, user)["id"]

    def applet(self, project: str, code: str, interpreter: str = "bash", **spec) -> str:
        return self.ok("/applet/new", {"project": project, "name": "a", "dxapi": "1.0.0",
                                       "runSpec": {**UBUNTU, "interpreter": interpreter, "code": code}, **spec})["id"]

    def echo_applet(self, project: str, **spec) -> str:
        spec.setdefault("inputSpec", [{"name": "number", "class": "int"}])
        spec.setdefault("outputSpec", [{"name": "total", "class": "int"}])
        return self.applet(project, ECHO_CODE, **spec)

    def run(self, applet: str, project: str, input: dict, **options) -> str:
        return self.ok(f"/{applet}/run", {"project": project, "input": input, **options})["id"]

    def describe(self, job: str, **options) -> dict:
        return self.ok(f"/{job}/describe", options)

    def state(self, job: str) -> str:
        return self.describe(job, fields={"state": True})["state"]

    def wait(self, job: str, states: tuple[str, ...] = TERMINAL, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            d = self.describe(job)
            if d["state"] in states or time.monotonic() > deadline:
                return d
            time.sleep(0.05)


def server(fault: str | None = None) -> RefServer:
    return RefServer(settings=Settings(closing_ms=0, users=dict(FIXED_TOKENS),
                                       faults=frozenset({fault} if fault else ())))


@pytest.fixture(scope="module")
def clean():
    with server() as srv:
        yield Client(srv)


# -- probes: (client) -> observation -----------------------------------------------------------------------
def probe_missing_input(c: Client):
    p = c.project()
    status, answer = c.call(f"/{c.echo_applet(p)}/run", {"project": p, "input": {}})
    return status, answer.get("error", {}).get("type")


def probe_choices(c: Client):
    p = c.project()
    applet = c.echo_applet(p, inputSpec=[{"name": "number", "class": "int", "choices": [1, 2]}])
    status, answer = c.call(f"/{applet}/run", {"project": p, "input": {"number": 3}})
    return status, answer.get("error", {}).get("type")


def probe_run_nonce(c: Client):
    p = c.project()
    applet = c.echo_applet(p)
    first, second = (c.run(applet, p, {"number": 1}, nonce="n-1") for _ in range(2))
    return first == second


def probe_runnable(c: Client):
    p = c.project()
    job = c.run(c.echo_applet(p), p, {"number": 1})
    d = c.wait(job, timeout=2)
    return d["state"], [t["newState"] for t in d["stateTransitions"]][:1]


def probe_missing_output(c: Client):
    p = c.project()
    applet = c.applet(p, "main() {\n  :\n}\n", outputSpec=[{"name": "total", "class": "int"}])
    d = c.wait(c.run(applet, p, {}))
    return d["state"], d.get("failureReason")


def probe_jbor(c: Client):
    """A sleeping producer (terminated afterwards) and a consumer of its output: does the consumer wait?"""
    p = c.project()
    producer = c.run(c.applet(p, SLEEP_CODE), p, {})
    c.wait(producer, ("running",))
    consumer_applet = c.applet(p, 'main() {\n  dx-jobutil-add-output seen "$(cat "$HOME/job_input.json")" --class=string\n}\n')
    consumer = c.run(consumer_applet, p, {"x": {"$dnanexus_link": {"job": producer, "field": "out"}}})
    d = c.wait(consumer, timeout=2)
    c.ok(f"/{producer}/terminate")
    seen = (d.get("output") or {}).get("seen", "")
    return d["state"], producer in seen


def probe_depends_on(c: Client):
    p = c.project()
    gate = c.ok("/record/new", {"project": p, "name": "gate"})["id"]
    job = c.run(c.echo_applet(p), p, {"number": 1}, dependsOn=[gate])
    d = c.wait(job, ("running", *TERMINAL), timeout=2)
    return d["state"], d["dependsOn"] == [gate]


def probe_terminate(c: Client):
    p = c.project()
    job = c.run(c.applet(p, SLEEP_CODE), p, {})
    c.wait(job, ("running",))
    c.ok(f"/{job}/terminate")
    return c.wait(job, timeout=2)["state"]  # a job left running is killed when its server stops


def _failed_job(c: Client) -> str:
    p = c.project()
    job = c.run(c.applet(p, "main() {\n  exit 3\n}\n"), p, {})
    c.wait(job)
    return job


def _job_describe_everywhere(c: Client, job: str, key: str) -> list[Any]:
    """`key` of the job as job describe, findExecutions (describe) and describeExecutions give it."""
    one = c.describe(job)
    found = c.ok("/system/findExecutions", {"id": [job], "describe": True})["results"][0]["describe"]
    bulk = c.ok("/system/describeExecutions", {"executions": [job]})["results"][0]["describe"]
    return [d.get(key, "(absent)") for d in (one, found, bulk)]


def probe_failed_state(c: Client):
    return _job_describe_everywhere(c, _failed_job(c), "state")


def probe_failure_reason(c: Client):
    return _job_describe_everywhere(c, _failed_job(c), "failureReason")


def probe_transitions(c: Client):
    p = c.project()
    job = c.run(c.echo_applet(p), p, {"number": 1})
    c.wait(job)
    return [t["newState"] for t in c.describe(job)["stateTransitions"]]


def probe_started_running(c: Client):
    p = c.project()
    job = c.run(c.echo_applet(p), p, {"number": 1})
    d = c.wait(job)
    return d["startedRunning"] >= d["created"], d["stoppedRunning"] >= d["startedRunning"]


PYTHON_TREE = '''import dxpy


@dxpy.entry_point("main")
def main():
    return dict(total=dxpy.new_dxjob(dict(), "sub").get_output_ref("total"))


@dxpy.entry_point("sub")
def sub():
    return dict(total=1)
'''


def probe_parent_job(c: Client):
    p = c.project()
    main = c.run(c.applet(p, PYTHON_TREE, "python3"), p, {})
    c.wait(main, timeout=30)
    [sub] = c.ok("/system/findExecutions", {"parentJob": main})["results"]
    return _job_describe_everywhere(c, sub["id"], "parentJob") == [main] * 3


def probe_paging(c: Client):
    p = c.project()
    applet = c.echo_applet(p)
    jobs = {c.run(applet, p, {"number": i}) for i in range(5)}
    seen, starting = [], None
    for _ in range(10):
        body = {"project": p, "limit": 2, **({"starting": starting} if starting else {})}
        page = c.ok("/system/findExecutions", body)
        seen += [r["id"] for r in page["results"]]
        starting = page["next"]
        if starting is None:
            break
    return len(seen), set(seen) == jobs


def probe_applet_describe(c: Client):
    p = c.project()
    applet = c.echo_applet(p)
    return "code" in c.describe(applet)["runSpec"], "code" in c.ok(f"/{applet}/get")["runSpec"]


TOKEN_PROBE = '''import dxpy


@dxpy.entry_point("main")
def main():
    try:
        dxpy.api.project_describe("{bob_project}")
    except dxpy.exceptions.DXAPIError as exc:
        return dict(status=exc.code)
    return dict(status=200)
'''


def probe_job_token(c: Client):
    p = c.project()
    bob_project = c.project("bob")
    job = c.run(c.applet(p, TOKEN_PROBE.format(bob_project=bob_project), "python3"), p, {})
    d = c.wait(job, timeout=30)
    return d["state"], (d.get("output") or {}).get("status"), c.call(f"/{bob_project}/describe")[0]


EXPECTED: dict[str, tuple[Callable[[Client], Any], Any, Any]] = {
    "run-accepts-missing-input": (probe_missing_input, (422, "InvalidInput"), (200, None)),
    "run-ignores-choices": (probe_choices, (422, "InvalidInput"), (200, None)),
    "run-nonce-not-idempotent": (probe_run_nonce, True, False),
    "job-never-leaves-runnable": (probe_runnable, ("done", ["runnable"]), ("runnable", ["runnable"])),
    "output-not-validated": (probe_missing_output, ("failed", "OutputError"), ("done", None)),
    "jbor-not-awaited": (probe_jbor, ("waiting_on_input", False), ("done", True)),
    "depends-on-ignored": (probe_depends_on, ("waiting_on_input", True), None),
    "terminate-does-nothing": (probe_terminate, "terminated", "running"),
    "failed-job-reported-done": (probe_failed_state, ["failed"] * 3, ["done"] * 3),
    "failure-reason-missing": (probe_failure_reason, ["AppInternalError"] * 3, ["(absent)"] * 3),
    "state-transitions-reversed": (probe_transitions, ["runnable", "running", "done"],
                                   ["done", "running", "runnable"]),
    "started-running-in-seconds": (probe_started_running, (True, True), (False, True)),
    "subjob-parent-null": (probe_parent_job, True, False),
    "find-executions-paging-skips": (probe_paging, (5, True), None),
    "applet-describe-leaks-code": (probe_applet_describe, (False, True), (True, True)),
    "job-token-reads-any-project": (probe_job_token, ("done", 404, 404), ("done", 200, 404)),
}


def test_every_executables_fault_has_a_probe():
    assert set(EXPECTED) == EXECUTABLE_FAULTS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fault_changes_behaviour(name, clean):
    probe, expected_clean, broken = EXPECTED[name]
    assert probe(clean) == expected_clean
    with server(name) as srv:
        observed = probe(Client(srv))
    assert observed != expected_clean
    if broken is not None:
        assert observed == broken


def test_never_leaves_runnable_keeps_the_job_runnable():
    with server("job-never-leaves-runnable") as srv:
        c = Client(srv)
        p = c.project()
        job = c.run(c.echo_applet(p), p, {"number": 1})
        time.sleep(1)
        assert c.state(job) == "runnable"
        c.ok(f"/{job}/terminate")
        assert c.state(job) == "terminated"


def test_depends_on_ignored_starts_the_job_but_describes_its_dependencies():
    with server("depends-on-ignored") as srv:
        state, described = probe_depends_on(Client(srv))
    assert state in ("running", "done") and described


def test_paging_skips_loses_jobs():
    with server("find-executions-paging-skips") as srv:
        count, complete = probe_paging(Client(srv))
    assert count < 5 and not complete

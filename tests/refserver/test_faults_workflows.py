"""Every fault of workflows, analyses and apps (faults/workflows.py) changes what the reference server does, as its
rule says.

Each probe makes the same calls against a clean server and against one with the fault on (real servers on
loopback: stage jobs are real processes, short bash code) and returns what it observed; the test asserts both
observations. The clean server is shared by the module (each probe works in a fresh project, and names its apps
uniquely: app names are global on a server).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.faults import WORKFLOW_FAULTS
from conformance.refserver.server import RefServer

ENDED = ("done", "failed", "terminated")
UBUNTU = {"distribution": "Ubuntu", "release": "24.04", "version": "0"}
INC_CODE = 'main() {\n  dx-jobutil-add-output total "$((number + 1))" --class=int\n}\n'
FAIL_CODE = 'main() {\n  dx-jobutil-report-error "stage failure" AppError\n}\n'
NOOP_CODE = "main() {\n  :\n}\n"
APP_NAMES = itertools.count()


def link(stage: str, field: str) -> dict:
    return {"$dnanexus_link": {"stage": stage, "outputField": field}}


class Client:
    def __init__(self, server: RefServer):
        self.url = server.url

    def call(self, path: str, body: Any = None, user: str = "alice") -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {FIXED_TOKENS[user]}"}
        r = requests.post(self.url + path, json={} if body is None else body, headers=headers, timeout=30)
        return r.status_code, r.json()

    def ok(self, path: str, body: Any = None, user: str = "alice") -> Any:
        status, parsed = self.call(path, body, user)
        assert status == 200, (path, status, parsed)
        return parsed

    def error(self, path: str, body: Any = None, user: str = "alice") -> tuple[int, str | None]:
        status, parsed = self.call(path, body, user)
        return status, parsed.get("error", {}).get("type") if isinstance(parsed, dict) else None

    def project(self, user: str = "alice") -> str:
        return self.ok("/project/new", {"name": "p"}, user)["id"]

    def applet(self, project: str, code: str = INC_CODE, user: str = "alice", **spec) -> str:
        if code == INC_CODE:
            spec.setdefault("inputSpec", [{"name": "number", "class": "int"}])
            spec.setdefault("outputSpec", [{"name": "total", "class": "int"}])
        return self.ok("/applet/new", {"project": project, "name": "a", "dxapi": "1.0.0",
                                       "runSpec": {**UBUNTU, "interpreter": "bash", "code": code}, **spec},
                       user)["id"]

    def workflow(self, project: str, **spec) -> str:
        return self.ok("/workflow/new", {"project": project, "name": "wf", **spec})["id"]

    def chain(self, project: str, applet: str) -> str:
        """Two stages of the inc applet, second's number bound to first's total; outputFolder /output, first's
        folder "foo", second's "/myoutput"; the workflow output `result` is second's total."""
        return self.workflow(project, outputFolder="/output",
                             stages=[{"id": "first", "executable": applet, "folder": "foo"},
                                     {"id": "second", "executable": applet, "folder": "/myoutput",
                                      "input": {"number": link("first", "total")}}],
                             outputs=[{"name": "result", "class": "int", "outputSource": link("second", "total")}])

    def run(self, workflow: str, project: str, input: dict, **options) -> dict:
        return self.ok(f"/{workflow}/run", {"project": project, "input": input, **options})

    def describe(self, execution: str, user: str = "alice", **options) -> dict:
        return self.ok(f"/{execution}/describe", options, user)

    def wait(self, execution: str, states: tuple[str, ...] = ENDED, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            d = self.describe(execution)
            if d["state"] in states or time.monotonic() > deadline:
                return d
            time.sleep(0.05)

    def app(self, project: str, name: str, version: str = "1.0.0") -> str:
        return self.ok("/app/new", {"applet": self.applet(project), "name": name, "version": version})["id"]


def server(fault: str | None = None) -> RefServer:
    return RefServer(settings=Settings(closing_ms=0, users=dict(FIXED_TOKENS),
                                       faults=frozenset({fault} if fault else ())))


@pytest.fixture(scope="module")
def clean():
    with server() as srv:
        yield Client(srv)


def app_name() -> str:
    return f"faulty-{time.monotonic_ns()}-{next(APP_NAMES)}"


# -- probes: (client) -> observation -----------------------------------------------------------------------
def probe_stale_edit(c: Client):
    wf = c.workflow(c.project())
    c.ok(f"/{wf}/update", {"editVersion": 0, "title": "one"})
    status, _ = c.error(f"/{wf}/update", {"editVersion": 0, "title": "two"})
    d = c.describe(wf)
    return status, d["title"], d["editVersion"]


def probe_edit_bump(c: Client):
    p = c.project()
    wf = c.workflow(p)
    answer = c.ok(f"/{wf}/addStage", {"editVersion": 0, "executable": c.applet(p)})["editVersion"]
    return answer, c.describe(wf)["editVersion"]


def probe_no_op_edit(c: Client):
    wf = c.workflow(c.project())
    answer = c.ok(f"/{wf}/update", {"editVersion": 0})["editVersion"]
    return answer, c.describe(wf)["editVersion"]


def probe_closed_edit(c: Client):
    wf = c.workflow(c.project())
    c.ok(f"/{wf}/close")
    status, error = c.error(f"/{wf}/update", {"editVersion": 0, "title": "late"})
    d = c.describe(wf)
    return status, error, d["title"], d["state"]


def probe_run_value(c: Client):
    p = c.project()
    wf = c.chain(p, c.applet(p))
    second = c.run(wf, p, {"first.number": 1, "second.number": 40})["stages"][1]
    return c.wait(second)["output"]


def probe_workflow_inputs(c: Client):
    p = c.project()
    wf = c.workflow(p, inputs=[{"name": "n", "class": "int"}],
                    stages=[{"id": "a", "executable": c.applet(p),
                             "input": {"number": {"$dnanexus_link": {"workflowInputField": "n"}}}}])
    status, parsed = c.call(f"/{wf}/run", {"project": p, "input": {"n": 3}})
    if status != 200:
        return status, parsed["error"]["type"]
    return status, c.describe(parsed["stages"][0])["originalInput"]


def probe_folders(c: Client):
    """The folders of first (relative "foo") and second (absolute, but given "quux" in stageFolders)."""
    p = c.project()
    first, second = c.run(c.chain(p, c.applet(p)), p, {"first.number": 1},
                          stageFolders={"second": "quux"})["stages"]
    return c.describe(first)["folder"], c.describe(second)["folder"]


def _half_failed(c: Client) -> str:
    """An analysis of a stage that ends done and one that fails."""
    p = c.project()
    wf = c.workflow(p, stages=[{"id": "ok", "executable": c.applet(p)},
                               {"id": "bad", "executable": c.applet(p, FAIL_CODE)}])
    return c.run(wf, p, {"ok.number": 1})["id"]


def probe_failed_analysis(c: Client):
    d = c.wait(_half_failed(c))
    return d["state"], d.get("failureReason")


def probe_settled(c: Client):
    p = c.project()
    wf = c.workflow(p, stages=[{"id": "a", "executable": c.applet(p)}])
    answer = c.run(wf, p, {"a.number": 1})
    job = c.wait(answer["stages"][0])
    return job["state"], c.wait(answer["id"], timeout=2)["state"]


def _done_chain(c: Client) -> str:
    p = c.project()
    analysis = c.run(c.chain(p, c.applet(p)), p, {"first.number": 5})["id"]
    c.wait(analysis)
    return analysis


def _execution_describes(c: Client, execution: str) -> list[dict]:
    """The execution as describe, findExecutions (describe) and describeExecutions give it."""
    one = c.describe(execution)
    found = c.ok("/system/findExecutions", {"id": [execution], "describe": True})["results"][0]["describe"]
    bulk = c.ok("/system/describeExecutions", {"executions": [execution]})["results"][0]["describe"]
    return [one, found, bulk]


def probe_analysis_output(c: Client):
    return [d["output"] for d in _execution_describes(c, _done_chain(c))]


def probe_stage_job_analysis(c: Client):
    analysis = _done_chain(c)
    first = c.describe(analysis)["stages"][0]["execution"]
    seen = [*_execution_describes(c, first["id"]), first]
    return [(d["parentAnalysis"] == analysis, d["analysis"] == analysis, d["stage"]) for d in seen]


def probe_find_by_applet(c: Client):
    p = c.project()
    applet = c.applet(p)
    wf = c.workflow(p, stages=[{"id": "a", "executable": applet}])
    answer = c.run(wf, p, {"a.number": 1})
    found = {r["id"] for r in c.ok("/system/findExecutions", {"executable": applet})["results"]}
    by_analyses = {r["id"] for r in c.ok("/system/findAnalyses", {"executable": applet})["results"]}
    return answer["id"] in found, answer["stages"][0] in found, answer["id"] in by_analyses


def probe_default_alias(c: Client):
    p, name = c.project(), app_name()
    first = c.app(p, name)
    second = c.app(p, name, "2.0.0")
    described = c.ok(f"/app-{name}/describe")["id"]
    return [{first: "first", second: "second"}[i] for i in (described, c.ok(f"/app-{name}/1.0.0/describe")["id"])]


def probe_unpublished(c: Client):
    app = c.app(c.project(), app_name())
    bob_project = c.project("bob")
    seen = c.error(f"/{app}/describe", user="bob")
    ran = c.error(f"/{app}/run", {"project": bob_project, "input": {"number": 1}}, user="bob")
    return seen, ran, "published" in c.describe(app)


def probe_publish_twice(c: Client):
    app = c.app(c.project(), app_name())
    c.ok(f"/{app}/publish")
    return c.error(f"/{app}/publish")


def probe_add_developers(c: Client):
    app = c.app(c.project(), app_name())
    c.ok(f"/{app}/addAuthorizedUsers", {"authorizedUsers": ["PUBLIC"]})
    c.ok(f"/{app}/publish")
    status = c.error(f"/{app}/addDevelopers", {"developers": ["user-bob"]}, user="bob")
    return status, c.ok(f"/{app}/listDevelopers")["developers"]


def probe_stage_links(c: Client):
    p = c.project()
    applet = c.applet(p)
    wf = c.workflow(p, stages=[{"id": "a", "executable": applet},
                               {"id": "b", "executable": applet, "input": {"number": link("a", "total")}},
                               {"id": "c", "executable": applet, "input": {"number": link("b", "total")}}])
    analysis = c.run(wf, p, {"a.number": 1})["id"]
    return c.wait(analysis)["output"]


FOLDERS_CLEAN = ("/output/foo", "/output/quux")
EXPECTED: dict[str, tuple[Callable[[Client], Any], Any, Any]] = {
    "stale-edit-version-accepted": (probe_stale_edit, (422, "one", 1), (200, "two", 2)),
    "edit-version-not-incremented": (probe_edit_bump, (1, 1), (0, 0)),
    "no-op-edit-bumps-edit-version": (probe_no_op_edit, (0, 0), (1, 1)),
    "closed-workflow-editable": (probe_closed_edit, (422, "InvalidState", "wf", "closed"), (200, None, "late", "closed")),
    "run-values-lose-to-bindings": (probe_run_value, {"total": 41}, {"total": 3}),
    "workflow-inputs-dropped": (probe_workflow_inputs, (200, {"number": 3}), (422, "InvalidInput")),
    "stage-links-to-first-stage": (probe_stage_links, {"a.total": 2, "b.total": 3, "c.total": 4},
                                   {"a.total": 2, "b.total": 3, "c.total": 3}),
    "relative-stage-folder-at-root": (probe_folders, FOLDERS_CLEAN, ("/foo", "/quux")),
    "stage-folders-ignored": (probe_folders, FOLDERS_CLEAN, ("/output/foo", "/myoutput")),
    "analysis-done-despite-failed-stage": (probe_failed_analysis, ("failed", "AppError"), ("done", None)),
    "analysis-stuck-in-progress": (probe_settled, ("done", "done"), ("done", "in_progress")),
    "analysis-output-without-workflow-outputs": (
        probe_analysis_output, [{"first.total": 6, "second.total": 7, "result": 7}] * 3,
        [{"first.total": 6, "second.total": 7}] * 3),
    "stage-job-without-analysis": (probe_stage_job_analysis, [(True, True, "first")] * 4, [(False, False, None)] * 4),
    "find-by-applet-misses-analyses": (probe_find_by_applet, (True, True, True), (False, True, False)),
    "default-alias-is-newest-version": (probe_default_alias, ["first", "first"], ["second", "first"]),
    "unpublished-app-shown-to-others": (probe_unpublished, ((404, "ResourceNotFound"), (404, "ResourceNotFound"), False),
                                        ((200, None), (200, None), False)),
    "publish-twice-accepted": (probe_publish_twice, (422, "InvalidState"), (200, None)),
    "non-developer-adds-developers": (probe_add_developers, ((401, "PermissionDenied"), ["user-alice"]),
                                      ((200, None), ["user-alice", "user-bob"])),
}


def test_every_workflows_fault_has_a_probe():
    assert set(EXPECTED) == WORKFLOW_FAULTS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fault_changes_behaviour(name, clean):
    probe, expected_clean, broken = EXPECTED[name]
    assert probe(clean) == expected_clean
    with server(name) as srv:
        observed = probe(Client(srv))
    assert observed == broken


def test_stale_edit_version_still_needs_an_int_edit_version():
    """The fault takes any int for the current editVersion; a missing one is still refused."""
    with server("stale-edit-version-accepted") as srv:
        c = Client(srv)
        wf = c.workflow(c.project())
        assert c.error(f"/{wf}/update", {"title": "x"}) == (422, "InvalidInput")


def test_folders_fault_leaves_the_stored_workflow_as_it_was():
    with server("relative-stage-folder-at-root") as srv:
        c = Client(srv)
        p = c.project()
        wf = c.chain(p, c.applet(p))
        c.run(wf, p, {"first.number": 1})
        assert [s["folder"] for s in c.describe(wf)["stages"]] == ["foo", "/myoutput"]


def test_default_alias_fault_keeps_explicit_aliases():
    """Only the bare name (the "default" alias) resolves to the newest version; app-<name>/<alias> still works."""
    with server("default-alias-is-newest-version") as srv:
        assert probe_default_alias(Client(srv))[1] == "first"


def test_add_developers_fault_keeps_no_stray_developer():
    """A non-developer who adds someone else (here the developer herself) does not stay a developer himself."""
    with server("non-developer-adds-developers") as srv:
        c = Client(srv)
        app = c.app(c.project(), app_name())
        c.ok(f"/{app}/addAuthorizedUsers", {"authorizedUsers": ["PUBLIC"]})
        c.ok(f"/{app}/publish")
        c.ok(f"/{app}/addDevelopers", {"developers": ["user-alice"]}, user="bob")
        assert c.ok(f"/{app}/listDevelopers")["developers"] == ["user-alice"]

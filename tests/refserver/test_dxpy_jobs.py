"""dxpy, unmodified, runs applets on the reference server: real job processes, end to end.

Jobs run the applet's code as processes of this machine (bash, or python3 with dxpy: about 0.7 s each to
import it), so the module has a server of its own (the `dx_server` machinery at module scope): the jobs of
these tests never show up in other modules' searches, and stopping it at the end kills whatever is left.
Each test works in a fresh project of alice; waits poll every 0.1 s instead of dxpy's default 2 s.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import pytest

from conformance.refserver.pytest_fixture import DXServer

from .dxpy_module import dxpy_fixtures
from .job_support import kill_marked, new_marker, processes_with, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jobs need Linux /proc")]

server_fixture, dx_fixture, project_fixture = dxpy_fixtures()

WAIT = {"interval": 0.1, "timeout": 30}


def new_applet(dx: ModuleType, project: str, code: str, interpreter: str = "bash", name: str = "applet",
               **spec: Any):
    applet = dx.DXApplet()
    applet.new(project=project, dxapi="1.0.0", name=name,
               runSpec={"interpreter": interpreter, "code": code, "distribution": "Ubuntu", "release": "24.04"},
               **spec)
    return applet


def on_server(server: DXServer, query: str, *params: Any) -> list[tuple]:
    """A query on the server's store, run on its handler thread (between requests)."""
    db = server.server.app.db
    return server.server.app.handlers.submit(
        lambda: [tuple(r) for r in db.conn.execute(query, params).fetchall()]).result(timeout=10)


def failure_of(dx: ModuleType, job) -> str:
    with pytest.raises(dx.exceptions.DXJobFailureError) as failed:
        job.wait_on_done(**WAIT)
    return str(failed.value)


UPLOAD = """main() {
  echo "data of $DX_JOB_ID" > f
  id=$(dx upload f --brief)
  dx-jobutil-add-output out "$id" --class=file
}
"""


def test_bash_job_uploads_a_file_that_becomes_its_output(dx, project):
    applet = new_applet(dx, project, UPLOAD, name="uploader", outputSpec=[{"name": "out", "class": "file"}])
    job = applet.run({}, project=project)
    job.wait_on_done(**WAIT)
    output = job.describe()["output"]
    assert list(output) == ["out"] and list(output["out"]) == ["$dnanexus_link"], output
    file_id = output["out"]["$dnanexus_link"]
    handler = dx.DXFile(file_id, project=project)
    desc = handler.describe()
    assert (desc["project"], desc["folder"], desc["state"], desc["name"]) == (project, "/", "closed", "f")
    assert desc["createdBy"]["job"] == job.get_id() and desc["createdBy"]["user"] == "user-alice"
    assert handler.read() == f"data of {job.get_id()}\n"


SUBJOB = """import dxpy

@dxpy.entry_point("main")
def main(n):
    sub = dxpy.new_dxjob({"x": n}, "double")
    return {"out": sub.get_output_ref("y")}

@dxpy.entry_point("double")
def double(x):
    return {"y": 2 * x}
"""


def test_python_job_returns_the_jbor_of_its_subjob(dx, project):
    applet = new_applet(dx, project, SUBJOB, "python3", name="doubler",
                        inputSpec=[{"name": "n", "class": "int"}], outputSpec=[{"name": "out", "class": "int"}])
    job = applet.run({"n": 21}, project=project, name="parent")
    job.wait_on_done(**WAIT)
    assert job.describe()["output"] == {"out": 42}
    subjobs = list(dx.find_jobs(parent_job=job.get_id(), describe=True))
    assert len(subjobs) == 1, subjobs
    sub = subjobs[0]["describe"]
    assert (sub["parentJob"], sub["originJob"], sub["rootExecution"]) == (job.get_id(),) * 3
    assert (sub["function"], sub["name"], sub["state"]) == ("double", "parent:double", "done")
    assert (sub["input"], sub["output"]) == ({"x": 21}, {"y": 42})
    assert sub["workspace"] == job.describe(fields={"workspace": True})["workspace"]


FAILING = """import dxpy

@dxpy.entry_point("main")
def main(kind):
    if kind == "app":
        raise dxpy.AppError("not a genome: 4242")
    raise ValueError("bad value 4343")
"""


def test_app_error_and_other_exceptions_fail_the_job(dx, project):
    applet = new_applet(dx, project, FAILING, "python3", name="failing")
    app_error, value_error = applet.run({"kind": "app"}, project=project), applet.run({"kind": "value"}, project=project)
    message = failure_of(dx, app_error)
    assert "AppError" in message and "not a genome: 4242" in message, message
    desc = app_error.describe()
    assert (desc["state"], desc["failureReason"], desc["failureMessage"]) == ("failed", "AppError",
                                                                              "not a genome: 4242")
    assert desc["output"] is None
    message = failure_of(dx, value_error)
    assert "AppInternalError" in message and "ValueError: bad value 4343" in message, message
    desc = value_error.describe()
    assert (desc["failureReason"], desc["failureMessage"]) == ("AppInternalError", "ValueError: bad value 4343")


def test_terminate_kills_the_job_process(dx, project, server):
    marker = new_marker()
    applet = new_applet(dx, project, f"main() {{\n  sleep {marker}\n}}\n", name="sleeper")
    job = applet.run({}, project=project)
    try:
        wait_for(lambda: processes_with(marker), what="the job's sleep to start")
        assert on_server(server, "SELECT count(*) FROM job_tokens WHERE job_id = ?", job.get_id()) == [(1,)]
        job.terminate()
        assert "terminated" in failure_of(dx, job)
        desc = job.describe()
        assert desc["state"] == "terminated"
        assert [t["newState"] for t in desc["stateTransitions"][-2:]] == ["terminating", "terminated"]
        assert desc["stoppedRunning"] >= desc["startedRunning"]
        assert processes_with(marker) == []
        assert on_server(server, "SELECT count(*) FROM job_tokens WHERE job_id = ?", job.get_id()) == [(0,)]
    finally:
        kill_marked(marker)


def test_find_jobs_and_executions_page_newest_first_with_filters(dx, project, monkeypatch):
    applet = new_applet(dx, project, 'main() {\n  [ "$((n % 10))" != 0 ]\n}\n', name="pager",
                        inputSpec=[{"name": "n", "class": "int"}])
    jobs = [applet.run({"n": n}, project=project, name=f"{'even' if n % 2 == 0 else 'odd'}-{n}").get_id()
            for n in range(30)]
    newest_first = jobs[::-1]
    pages: list[dict] = []
    find_executions = dx.api.system_find_executions

    def counted(query, *args, **kwargs):
        pages.append(dict(query))
        return find_executions(query, *args, **kwargs)

    monkeypatch.setattr(dx.api, "system_find_executions", counted)
    found = [r["id"] for r in dx.find_executions(project=project, first_page_size=7)]
    assert found == newest_first
    assert len(pages) >= 3 and pages[0]["limit"] == 7 and "starting" in pages[1], pages
    assert [r["id"] for r in dx.find_jobs(project=project, first_page_size=7)] == newest_first

    wait_for(lambda: all(dx.DXJob(j).describe(fields={"state": True})["state"] in ("done", "failed") for j in jobs),
             timeout=30, what="30 jobs to end")
    failing = {jobs[0], jobs[10], jobs[20]}
    done = [r["id"] for r in dx.find_jobs(project=project, state="done", first_page_size=7)]
    assert done == [j for j in newest_first if j not in failing]
    assert {r["id"] for r in dx.find_jobs(project=project, state="failed")} == failing
    odd = list(dx.find_jobs(project=project, name="odd-*", name_mode="glob", describe=True, first_page_size=4))
    assert [r["id"] for r in odd] == newest_first[0::2]
    assert all(r["describe"]["name"].startswith("odd-") for r in odd)
    assert [r["id"] for r in dx.find_jobs(project=project, name="even-1*", name_mode="glob")] == \
        [jobs[n] for n in (18, 16, 14, 12, 10)]


PRODUCER = 'main() {\n  sleep 1\n  dx-jobutil-add-output v "$((n * 10))" --class=int\n}\n'
CONSUMER = 'main() {\n  dx-jobutil-add-output w "$((m + 1))" --class=int\n}\n'


def test_jbor_input_waits_for_its_job_and_resolves(dx, project):
    producer = new_applet(dx, project, PRODUCER, name="producer", inputSpec=[{"name": "n", "class": "int"}],
                          outputSpec=[{"name": "v", "class": "int"}])
    consumer = new_applet(dx, project, CONSUMER, name="consumer", inputSpec=[{"name": "m", "class": "int"}],
                          outputSpec=[{"name": "w", "class": "int"}])
    a = producer.run({"n": 7}, project=project)
    jbor = a.get_output_ref("v")
    b = consumer.run({"m": jbor}, project=project)
    early = b.describe()
    assert early["state"] in ("idle", "waiting_on_input"), early["state"]
    assert early["input"] == {"m": jbor}
    b.wait_on_done(**WAIT)
    desc = b.describe()
    assert desc["stateTransitions"][0]["newState"] == "waiting_on_input"
    assert (desc["runInput"], desc["originalInput"], desc["input"]) == ({"m": jbor}, {"m": jbor}, {"m": 70})
    assert desc["output"] == {"w": 71}
    assert desc["startedRunning"] >= a.describe()["stoppedRunning"]


def test_depends_on_starts_after_the_job_is_done(dx, project):
    producer = new_applet(dx, project, PRODUCER, name="producer", inputSpec=[{"name": "n", "class": "int"}])
    after = new_applet(dx, project, "main() {\n  :\n}\n", name="after")
    a = producer.run({"n": 1}, project=project)
    b = after.run({}, project=project, depends_on=[a])
    b.wait_on_done(**WAIT)
    a_desc, b_desc = a.describe(), b.describe()
    assert a_desc["state"] == "done" and b_desc["dependsOn"] == [a.get_id()]
    assert b_desc["stateTransitions"][0]["newState"] == "waiting_on_input"
    assert b_desc["startedRunning"] >= a_desc["stoppedRunning"]


def test_output_and_input_must_match_the_specs(dx, project):
    applet = new_applet(dx, project, "main() {\n  :\n}\n", name="forgetful",
                        inputSpec=[{"name": "n", "class": "int"}], outputSpec=[{"name": "out", "class": "int"}])
    job = applet.run({"n": 1}, project=project)
    for bad in ({"n": "one"}, {"n": 1, "unknown": 2}, {}):
        with pytest.raises(dx.exceptions.DXAPIError) as refused:
            applet.run(bad, project=project)
        assert refused.value.name == "InvalidInput", bad
    assert "OutputError" in failure_of(dx, job)
    desc = job.describe()
    assert desc["failureReason"] == "OutputError" and "out" in desc["failureMessage"], desc["failureMessage"]


SCOPE = """import os
import dxpy

def outcome(call):
    try:
        call()
        return "ok"
    except dxpy.exceptions.DXAPIError as exc:
        return exc.name

@dxpy.entry_point("main")
def main(bob_project, other_project):
    workspace, project = os.environ["DX_WORKSPACE_ID"], os.environ["DX_PROJECT_CONTEXT_ID"]
    return {
        "bob": outcome(lambda: dxpy.api.project_describe(bob_project)),
        "other": outcome(lambda: dxpy.api.project_describe(other_project)),
        "project": outcome(lambda: dxpy.api.project_describe(project)),
        "workspace": outcome(lambda: dxpy.api.container_describe(workspace)),
        "write": outcome(lambda: dxpy.new_dxrecord(project=workspace, name="mine")),
    }
"""


def test_a_job_token_reaches_only_the_jobs_own_containers(dx, project, server):
    bob_project = dx.api.project_new({"name": "bob's"}, auth=server.auth("bob"))["id"]
    other_project = dx.api.project_new({"name": "alice's other"})["id"]
    applet = new_applet(dx, project, SCOPE, "python3", name="scope")
    job = applet.run({"bob_project": bob_project, "other_project": other_project}, project=project)
    job.wait_on_done(**WAIT)
    output = job.describe()["output"]
    assert output["bob"] in ("ResourceNotFound", "PermissionDenied"), output
    assert output["other"] in ("ResourceNotFound", "PermissionDenied"), output
    assert (output["project"], output["workspace"], output["write"]) == ("ok", "ok", "ok"), output
    assert on_server(server, "SELECT count(*) FROM job_tokens WHERE job_id = ?", job.get_id()) == [(0,)]
    assert on_server(server, "SELECT count(*) FROM members WHERE member_id = ?", job.get_id()) == [(0,)]


OPEN_OUTPUT = """import dxpy
@dxpy.entry_point("main")
def main():
    record = dxpy.new_dxrecord()  # left open: nobody can close it once the job has ended
    return {"r": dxpy.dxlink(record.get_id())}
"""


def test_an_output_object_left_open_fails_the_job_instead_of_waiting_forever(dx, project):
    applet = new_applet(dx, project, OPEN_OUTPUT, interpreter="python3",
                        outputSpec=[{"name": "r", "class": "record"}])
    message = failure_of(dx, applet.run({}, project=project))
    assert "OutputError" in message and "still open" in message


NESTED = """import dxpy
@dxpy.entry_point("main")
def main(inner):
    job = dxpy.DXApplet(inner).run({"n": 4})
    return {"outer": job.get_output_ref("out")}
"""
INNER = 'main() {\n  dx-jobutil-add-output out "$((n * 3))" --class=int\n}\n'


def test_an_applet_run_from_inside_a_job_runs_in_the_jobs_workspace(dx, project, server):
    inner = new_applet(dx, project, INNER, inputSpec=[{"name": "n", "class": "int"}],
                       outputSpec=[{"name": "out", "class": "int"}], name="inner")
    outer = new_applet(dx, project, NESTED, interpreter="python3", name="outer",
                       inputSpec=[{"name": "inner", "class": "applet"}],
                       outputSpec=[{"name": "outer", "class": "int"}])
    job = outer.run({"inner": dx.dxlink(inner.get_id())}, project=project)
    job.wait_on_done(**WAIT)
    assert job.describe()["output"] == {"outer": 12}
    (nested_id,) = [row[0] for row in on_server(server, "SELECT id FROM jobs WHERE parent_job = ?", job.get_id())]
    nested = dx.DXJob(nested_id).describe()
    # dxpy sends no project from inside a job: the run lands in the calling job's workspace, and the new
    # job is a master job of its own (its own origin) whose parent is the caller.
    assert nested["project"] == job.describe()["workspace"]
    assert nested["parentJob"] == job.get_id() and nested["originJob"] == nested_id

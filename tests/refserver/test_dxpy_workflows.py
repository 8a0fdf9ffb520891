"""dxpy, unmodified, builds workflows and runs them as analyses on the reference server, end to end.

Stages run real job processes (bash applets, as in test_dxpy_jobs.py), so the module has a server of its own
(the `dx_server` machinery at module scope): its analyses never show up in other modules' searches, and
stopping it at the end kills whatever is left. Each test works in a fresh project of alice; waits poll every
0.1 s instead of dxpy's default 2 s.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import pytest

from .dxpy_module import dxpy_fixtures
from .job_support import kill_marked, new_marker, processes_with, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jobs need Linux /proc")]

server_fixture, dx_fixture, project_fixture = dxpy_fixtures()

WAIT = {"interval": 0.1, "timeout": 30}

DOUBLE = 'main() {\n  dx-jobutil-add-output v "$((n * 2))" --class=int\n}\n'
ADD_ONE = 'main() {\n  dx-jobutil-add-output w "$((m + 1))" --class=int\n}\n'
UPLOAD = 'main() {\n  echo "made by $DX_JOB_ID" > f\n  dx-jobutil-add-output out "$(dx upload f --brief)" --class=file\n}\n'


def new_applet(dx: ModuleType, project: str, code: str, name: str, inputs: dict[str, str] | None = None,
               outputs: dict[str, str] | None = None):
    """A bash applet made with the bare API call; inputs/outputs map field names to classes."""
    applet_id = dx.api.applet_new({
        "project": project, "name": name, "dxapi": "1.0.0",
        "inputSpec": [{"name": k, "class": v} for k, v in (inputs or {}).items()],
        "outputSpec": [{"name": k, "class": v} for k, v in (outputs or {}).items()],
        "runSpec": {"interpreter": "bash", "code": code, "distribution": "Ubuntu", "release": "24.04"}})["id"]
    return dx.DXApplet(applet_id, project=project)


def link(stage: str, output_field: str) -> dict[str, Any]:
    return {"$dnanexus_link": {"stage": stage, "outputField": output_field}}


def pipeline(dx: ModuleType, project: str, **new: Any):
    """A workflow double -> add_one: the second stage's m is the first stage's output v."""
    double = new_applet(dx, project, DOUBLE, "double", {"n": "int"}, {"v": "int"})
    add_one = new_applet(dx, project, ADD_ONE, "add_one", {"m": "int"}, {"w": "int"})
    workflow = dx.new_dxworkflow(title="double then add one", project=project, **new)
    first = workflow.add_stage(double, name="double")
    second = workflow.add_stage(add_one, name="add", stage_input={"m": link(first, "v")})
    return workflow, first, second


def test_two_stage_workflow_runs_to_done_and_its_output_is_read_back(dx, project):
    workflow, first, second = pipeline(dx, project)
    desc = workflow.describe()
    assert (desc["class"], desc["project"], desc["title"], desc["editVersion"]) == \
        ("workflow", project, "double then add one", 2)
    assert [(s["id"], s["name"]) for s in desc["stages"]] == [(first, "double"), (second, "add")]
    assert desc["stages"][1]["input"] == {"m": link(first, "v")}

    analysis = workflow.run({"double.n": 21}, project=project, name="pipeline")
    assert isinstance(analysis, dx.DXAnalysis) and analysis.get_id().startswith("analysis-")
    analysis.wait_on_done(**WAIT)
    desc = analysis.describe()
    assert (desc["state"], desc["name"], desc["executable"], desc["project"]) == \
        ("done", "pipeline", workflow.get_id(), project)
    assert desc["output"] == {f"{first}.v": 42, f"{second}.w": 43}
    assert [s["id"] for s in desc["stages"]] == [first, second]
    jobs = [s["execution"] for s in desc["stages"]]
    assert [(j["state"], j["analysis"], j["stage"]) for j in jobs] == \
        [("done", analysis.get_id(), first), ("done", analysis.get_id(), second)]
    assert (jobs[0]["input"], jobs[1]["input"], jobs[1]["output"]) == ({"n": 21}, {"m": 42}, {"w": 43})
    # the binding to the first stage's output is a JBOR on the first stage's job, resolved when it was done
    assert jobs[1]["originalInput"] == {"m": {"$dnanexus_link": {"job": jobs[0]["id"], "field": "v"}}}
    assert jobs[1]["startedRunning"] >= jobs[0]["stoppedRunning"]


def test_an_analysis_output_reference_is_a_run_input(dx, project):
    workflow, _, second = pipeline(dx, project)
    analysis = workflow.run({"double.n": 1}, project=project)
    consumer = new_applet(dx, project, ADD_ONE, "consumer", {"m": "int"}, {"w": "int"})
    # dxpy's own reference to an analysis output, given before the analysis is done
    job = consumer.run({"m": analysis.get_output_ref(f"{second}.w")}, project=project)
    job.wait_on_done(**WAIT)
    assert job.describe()["output"] == {"w": 4}


def test_an_edit_with_a_stale_edit_version_is_refused_and_not_applied(dx, project):
    applet = new_applet(dx, project, DOUBLE, "double", {"n": "int"}, {"v": "int"})
    mine = dx.new_dxworkflow(title="original", project=project)
    theirs = dx.DXWorkflow(mine.get_id(), project=project)
    assert theirs.describe()["editVersion"] == mine.describe()["editVersion"] == 0
    stage = mine.add_stage(applet, name="first")
    assert mine.editVersion == 1
    before = mine.describe()

    assert theirs.editVersion == 0  # what the other handler cached
    with pytest.raises(dx.exceptions.DXAPIError) as stale:
        theirs.update(title="stale title")
    assert (stale.value.name, stale.value.code) == ("InvalidState", 422), stale.value
    with pytest.raises(dx.exceptions.DXAPIError) as stale:
        theirs.add_stage(applet, name="second", edit_version=0)
    assert stale.value.name == "InvalidState"
    after = dx.DXWorkflow(mine.get_id(), project=project).describe()
    assert (after["title"], after["editVersion"], after["stages"]) == ("original", 1, before["stages"])
    assert [s["id"] for s in after["stages"]] == [stage]

    # dxpy re-describes after every edit, failed or not: the next edit of the same handler carries the current
    # editVersion and goes through
    theirs.update(title="fresh title")
    assert dx.DXWorkflow(mine.get_id()).describe()["title"] == "fresh title"
    assert theirs.editVersion == 2
    with pytest.raises(dx.exceptions.DXAPIError) as stale:
        mine.remove_stage(stage, edit_version=1)
    assert stale.value.name == "InvalidState"
    assert [s["id"] for s in mine.describe()["stages"]] == [stage]


def test_describe_of_a_workflow_applet_file_and_record_in_one_call(dx, project):
    workflow, _, _ = pipeline(dx, project)
    workflow.close()
    applet = dx.DXApplet(workflow.stages[0]["executable"])
    file = dx.upload_string("some text", project=project, name="notes.txt", wait_on_close=True)
    record = dx.new_dxrecord(project=project, name="rec", close=True)
    ids = [workflow.get_id(), applet.get_id(), file.get_id(), record.get_id()]
    classes = ["workflow", "applet", "file", "record"]

    described = dx.describe(ids)
    assert [d["class"] for d in described] == classes
    assert [d["id"] for d in described] == ids
    assert all(d["project"] == project for d in described)
    assert described[0]["stages"] == workflow.describe()["stages"] and described[0]["state"] == "closed"
    assert (described[2]["name"], described[3]["name"]) == ("notes.txt", "rec")

    answer = dx.api.system_describe_data_objects({"objects": [
        {"id": i, "project": project, "describe": {"fields": {"class": True, "name": True}}} for i in ids]})
    assert [r["describe"] for r in answer["results"]] == \
        [{"id": i, "class": c, "name": d["name"]} for i, c, d in zip(ids, classes, described, strict=True)]
    # dxlinks are accepted too (dxpy.describe takes the ID out of them)
    assert [d["class"] for d in dx.describe([dx.dxlink(i) for i in ids], fields=["class"])] == classes


def test_move_update_and_remove_stages(dx, project):
    applets = [new_applet(dx, project, DOUBLE, name, {"n": "int"}, {"v": "int"}) for name in ("a", "b", "c")]
    workflow = dx.new_dxworkflow(project=project, name="editable")
    a, b, c = (workflow.add_stage(applet, name=applet.name) for applet in applets)
    assert [s["name"] for s in workflow.stages] == ["a", "b", "c"]

    workflow.move_stage("c", 0)
    assert [s["id"] for s in workflow.describe()["stages"]] == [c, a, b]
    workflow.update_stage(a, name="a2", folder="out", stage_input={"n": 5}, instance_type="mem2_ssd1_x4")
    stage = workflow.get_stage("a2")
    assert (stage["id"], stage["folder"], stage["input"]) == (a, "out", {"n": 5})
    assert stage["systemRequirements"] == {"*": {"instanceType": "mem2_ssd1_x4"}}
    workflow.update_stage(1, unset_name=True, unset_folder=True)
    assert (workflow.get_stage(a)["name"], workflow.get_stage(a)["folder"]) == (None, None)
    assert workflow.remove_stage("b") == b
    workflow.update(title="edited", output_folder="/results")
    desc = dx.DXWorkflow(workflow.get_id()).describe()
    assert [s["id"] for s in desc["stages"]] == [c, a]
    assert (desc["title"], desc["outputFolder"], desc["editVersion"]) == ("edited", "/results", 8)
    assert desc["stages"][1]["input"] == {"n": 5}

    with pytest.raises(dx.exceptions.DXAPIError) as refused:
        workflow.update_stage(a, instance_type="no_such_instance_type")
    assert refused.value.name == "InvalidInput"
    with pytest.raises(dx.exceptions.DXError, match="could not be found"):
        workflow.remove_stage("b")  # dxpy itself finds no such stage in its cached describe
    with pytest.raises(dx.exceptions.DXAPIError) as refused:
        dx.api.workflow_remove_stage(workflow.get_id(), {"stage": b, "editVersion": workflow.editVersion})
    assert refused.value.name in ("ResourceNotFound", "InvalidInput"), refused.value
    workflow.close()
    assert workflow.describe()["state"] == "closed"
    with pytest.raises(dx.exceptions.DXAPIError) as refused:
        workflow.update(title="after close")
    assert refused.value.name == "InvalidState"
    assert dx.DXWorkflow(workflow.get_id()).describe()["title"] == "edited"


def test_terminating_an_analysis_fails_wait_on_done_and_stops_its_jobs(dx, project):
    marker = new_marker()
    sleeper = new_applet(dx, project, f"main() {{\n  sleep {marker}\n}}\n", "sleeper", outputs={"v": "int"})
    after = new_applet(dx, project, ADD_ONE, "after", {"m": "int"}, {"w": "int"})
    workflow = dx.new_dxworkflow(project=project)
    first = workflow.add_stage(sleeper)
    workflow.add_stage(after, stage_input={"m": link(first, "v")})
    analysis = workflow.run({}, project=project)
    try:
        wait_for(lambda: processes_with(marker), what="the first stage's sleep to start")
        analysis.terminate()
        with pytest.raises(dx.exceptions.DXJobFailureError, match="terminated"):
            analysis.wait_on_done(**WAIT)
        desc = analysis.describe()
        assert desc["state"] == "terminated" and desc["output"] is None
        assert [t["newState"] for t in desc["stateTransitions"]][-2:] == ["terminating", "terminated"]
        # the running stage and the one waiting on its output are both terminated
        assert [s["execution"]["state"] for s in desc["stages"]] == ["terminated", "terminated"]
        wait_for(lambda: not processes_with(marker), what="the sleep to be killed")
    finally:
        kill_marked(marker)


def test_find_analyses_and_executions_of_class_analysis(dx, project):
    workflow, first, _ = pipeline(dx, project)
    runs = [workflow.run({f"{first}.n": n}, project=project, name=f"run-{n}") for n in range(3)]
    for analysis in runs:
        analysis.wait_on_done(**WAIT)
    newest_first = [a.get_id() for a in reversed(runs)]
    assert [r["id"] for r in dx.find_analyses(project=project)] == newest_first
    assert [r["id"] for r in dx.find_executions(project=project, classname="analysis")] == newest_first
    found = list(dx.find_analyses(project=project, name="run-1", describe=True))
    assert [(r["id"], r["describe"]["class"], r["describe"]["name"]) for r in found] == \
        [(runs[1].get_id(), "analysis", "run-1")]
    assert [r["id"] for r in dx.find_analyses(executable=workflow, project=project, state="done")] == newest_first
    # every execution of the project: 3 analyses and their 6 stage jobs
    everything = list(dx.find_executions(project=project, describe={"fields": {"class": True}}))
    assert sorted(r["describe"]["class"] for r in everything) == ["analysis"] * 3 + ["job"] * 6
    jobs = {r["id"] for r in dx.find_jobs(project=project, root_execution=runs[0].get_id())}
    assert jobs == {s["execution"]["id"] for s in runs[0].describe()["stages"]}
    runs[0].add_tags(["keep"])
    runs[0].set_properties({"batch": "b1"})
    runs[2].set_properties({"batch": "b2"})
    desc = runs[0].describe()
    assert (desc["tags"], desc["properties"]) == (["keep"], {"batch": "b1"})
    assert [r["id"] for r in dx.find_analyses(project=project, tags=["keep"])] == [runs[0].get_id()]
    assert [r["id"] for r in dx.find_analyses(project=project, properties={"batch": "b2"})] == [runs[2].get_id()]


def test_a_failing_stage_fails_the_analysis_and_wait_on_done_says_which_job(dx, project):
    failing = new_applet(dx, project, 'main() {\n  echo "no good" >&2\n  exit 3\n}\n', "failing",
                         outputs={"v": "int"})
    add_one = new_applet(dx, project, ADD_ONE, "add_one", {"m": "int"}, {"w": "int"})
    workflow = dx.new_dxworkflow(project=project)
    first = workflow.add_stage(failing)
    workflow.add_stage(add_one, stage_input={"m": link(first, "v")})
    analysis = workflow.run({}, project=project)
    with pytest.raises(dx.exceptions.DXJobFailureError) as failed:
        analysis.wait_on_done(**WAIT)
    desc = analysis.describe()
    failed_job = desc["stages"][0]["execution"]
    assert desc["state"] == "failed" and desc["output"] is None
    assert failed_job["state"] == "failed" and desc["failureFrom"]["id"] == failed_job["id"]
    assert (desc["failureReason"], failed_job["failureReason"]) == ("AppInternalError", "AppInternalError")
    assert f"failure from {failed_job['id']}" in str(failed.value), str(failed.value)
    # the stage that waited on the failed stage's output does not run
    waiting = desc["stages"][1]["execution"]
    assert (waiting["state"], waiting["failureReason"], waiting.get("startedRunning")) == \
        ("failed", "DependencyUnsatisfiable", None)


def test_run_with_stage_folders_puts_each_stage_output_where_asked(dx, project):
    uploader = new_applet(dx, project, UPLOAD, "uploader", outputs={"out": "file"})
    workflow = dx.new_dxworkflow(project=project, output_folder="/wf-default")
    stages = [workflow.add_stage(uploader, name=name, folder=folder)
              for name, folder in (("absolute", "/abs"), ("relative", "rel"), ("plain", None), ("named", None))]
    analysis = workflow.run({}, project=project, folder="/base", stage_folders={"named": "/by-name", "*": "star"})
    analysis.wait_on_done(**WAIT)
    desc = analysis.describe()
    assert desc["folder"] == "/base"
    # "*" stands for the stages the map does not name; a relative folder is under the run's folder
    expected = ["/base/star", "/base/star", "/base/star", "/by-name"]
    assert [s["execution"]["folder"] for s in desc["stages"]] == expected
    for stage, folder in zip(stages, expected, strict=True):
        file = dx.DXFile(desc["output"][f"{stage}.out"], project=project)
        assert file.describe()["folder"] == folder

    plain = workflow.run({}, project=project)
    plain.wait_on_done(**WAIT)
    assert [s["execution"]["folder"] for s in plain.describe()["stages"]] == \
        ["/abs", "/wf-default/rel", "/wf-default", "/wf-default"]

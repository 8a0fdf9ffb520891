"""Analyses on the reference server over HTTP, beyond the cases (cases/semantics/analyses/): bad run input never a
500, binding loops, dryRun creating nothing, the state machine's corners, and an old --db file's jobs table."""

from __future__ import annotations

import sqlite3
import time

import pytest

from conformance.refserver.analyses import folder_of
from conformance.refserver.db import SCHEMA, Database

INC = {"interpreter": "bash", "code": 'main() {\n  dx-jobutil-add-output total "$((number + 1))" --class=int\n}\n'}
SLEEP = {"interpreter": "bash", "code": "main() {\n  sleep 60\n}\n"}
ENDED = {"done", "failed", "terminated"}


def new_applet(client, project: str, run_spec: dict, **fields) -> str:
    body = {"project": project, "dxapi": "1.0.0", "runSpec": run_spec, **fields}
    return client.ok("/applet/new", body)["id"]


def inc_applet(client, project: str) -> str:
    return new_applet(client, project, INC, name="inc", inputSpec=[{"name": "number", "class": "int"}],
                      outputSpec=[{"name": "total", "class": "int"}])


def new_workflow(client, project: str, stages: list[dict], **fields) -> str:
    return client.ok("/workflow/new", {"project": project, "stages": stages, **fields})["id"]


def wait_ended(client, execution: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = client.ok(f"/{execution}/describe", {})
        if described["state"] in ENDED or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def link(stage: str, **ref) -> dict:
    return {"$dnanexus_link": {"stage": stage, **ref}}


@pytest.mark.parametrize(("base", "folder", "expected"), [
    ("/output", None, "/output"), ("/output", "", "/output"), ("/output", "foo", "/output/foo"),
    ("/output", "/myoutput", "/myoutput"), ("/", "bar", "/bar"), ("/a/", "b/c", "/a/b/c"),
])
def test_folder_of_follows_digest_5_4(base, folder, expected):
    assert folder_of(base, folder) == expected


@pytest.mark.parametrize("extra", [
    {"stageFolders": "x"}, {"stageFolders": {"a": 3}}, {"stageFolders": {"zz": "/x"}},
    {"stageSystemRequirements": {"a": "big"}}, {"stageSystemRequirements": {"a": {"*": {"instanceType": 3}}}},
    {"ignoreReuse": "a"}, {"ignoreReuse": ["zz"]}, {"rerunStages": "a"}, {"headJobOnDemand": True},
    {"folder": 3}, {"input": []}, {"input": {"a": 1}}, {"input": {".number": 1}}, {"input": {"a.": 1}},
    {"priority": "urgent"}, {"dependsOn": ["job-B0000000000000000000000B"]}, {"name": ""},
])
def test_run_input_mistakes_are_client_errors(client, project, extra):
    applet = inc_applet(client, project)
    workflow = new_workflow(client, project, [{"id": "a", "executable": applet}])
    body = {"project": project, "input": {"a.number": 1}, **extra}
    answer = client.call(f"/{workflow}/run", body)
    assert 400 <= answer.status < 500 and answer.error_type, answer
    assert client.ok("/system/findAnalyses", {"project": project})["results"] == []


def test_binding_loop_is_refused(client, project):
    applet = inc_applet(client, project)
    workflow = new_workflow(client, project, [
        {"id": "a", "executable": applet, "input": {"number": link("b", inputField="number")}},
        {"id": "b", "executable": applet, "input": {"number": link("a", inputField="number")}}])
    client.expect_error(f"/{workflow}/run", {"project": project, "input": {}}, "InvalidInput", 422)


def test_a_workflow_without_stages_does_not_run(client, project):
    workflow = new_workflow(client, project, [])
    client.expect_error(f"/{workflow}/run", {"project": project, "input": {}}, "InvalidState", 422)


def test_dry_run_plans_without_creating(client, project):
    applet = inc_applet(client, project)
    workflow = new_workflow(client, project, [
        {"id": "a", "executable": applet, "folder": "x"},
        {"id": "b", "executable": applet, "input": {"number": link("a", outputField="total")}}],
        outputFolder="/out")
    planned = client.ok(f"/{workflow}/dryRun", {"project": project, "input": {"a.number": 1}})
    assert [s["id"] for s in planned["stages"]] == ["a", "b"]
    assert [s["execution"]["folder"] for s in planned["stages"]] == ["/out/x", "/out"]
    assert planned["stages"][0]["execution"]["input"] == {"number": 1}
    assert client.ok("/system/findExecutions", {"project": project})["results"] == []


def test_stage_job_of_deleted_applet_is_refused_at_run(client, project):
    applet = inc_applet(client, project)
    workflow = new_workflow(client, project, [{"id": "a", "executable": applet}])
    client.ok(f"/{project}/removeObjects", {"objects": [applet]})
    client.expect_error(f"/{workflow}/run", {"project": project, "input": {"a.number": 1}}, "ResourceNotFound", 404)


def test_analysis_workspace_goes_when_it_ends(client, project):
    applet = inc_applet(client, project)
    workflow = new_workflow(client, project, [{"id": "a", "executable": applet}])
    analysis = client.ok(f"/{workflow}/run", {"project": project, "input": {"a.number": 1}})["id"]
    described = wait_ended(client, analysis)
    assert described["state"] == "done" and described["workspace"].startswith("container-")
    client.expect_error(f"/{described['workspace']}/describe", {}, "ResourceNotFound", 404)


def test_destroying_the_project_ends_its_analyses(client, project, refserver):
    applet = new_applet(client, project, SLEEP, name="sleep")
    workflow = new_workflow(client, project, [{"id": "a", "executable": applet}])
    analysis = client.ok(f"/{workflow}/run", {"project": project, "input": {}})["id"]
    client.ok(f"/{project}/destroy", {"terminateJobs": True})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = refserver.app.db.conn.execute("SELECT state FROM analyses WHERE id = ?", (analysis,)).fetchone()
        if row["state"] == "terminated":
            break
        time.sleep(0.1)
    assert row["state"] == "terminated"


def test_an_old_database_file_gains_the_stage_columns(tmp_path):
    """A --db file written before workflows ran: jobs(applet), no analysis/stage columns, no analyses table."""
    old_schema = SCHEMA.replace(
        "    executable TEXT NOT NULL,", "    applet TEXT NOT NULL,").replace(
        "    analysis TEXT,", "").replace("    stage TEXT,", "").replace(
        "CREATE INDEX IF NOT EXISTS jobs_analysis ON jobs(analysis);", "")
    assert "applet TEXT NOT NULL" in old_schema and "stage TEXT" not in old_schema.split("CREATE TABLE IF NOT EXISTS workflows")[0]
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(old_schema)
    conn.execute("INSERT INTO jobs(id, seq, name, state, function, applet, project, folder, workspace, launched_by,"
                 " origin_job, root_execution, created, modified, run_input, original_input) VALUES"
                 " ('job-1', 1, 'j', 'done', 'main', 'applet-1', 'project-1', '/', 'container-1', 'user-alice',"
                 " 'job-1', 'job-1', 0, 0, '{}', '{}')")
    conn.commit()
    conn.close()
    db = Database(str(path))
    try:
        row = db.conn.execute("SELECT executable, analysis, stage FROM jobs").fetchone()
        assert tuple(row) == ("applet-1", None, None)
    finally:
        db.close()

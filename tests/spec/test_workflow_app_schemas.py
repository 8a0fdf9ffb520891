"""The schemas of issue 19: every workflows/apps route has a complete method file, and the shared types of
types/workflows.json and types/apps.json accept and refuse what they should."""

from __future__ import annotations

import pytest

from conformance.spec import Spec, load_spec

SPEC = load_spec()
WORKFLOWS = "types/workflows.json"
APPS = "types/apps.json"
ISSUE_ROUTES = sorted(r.route for r in SPEC.routes if r.profile in ("workflows", "apps") or r.route == "/org-xxxx/findApps")
APPLET = "applet-Gk0vzB80fPZ5kJ1gQ6bFpYxQ"
APP = "app-Gk0vzK80fPZ5kJ1gQ6bFpYxQ"
WORKFLOW = "workflow-Gk0vzJ80fPZ5kJ1gQ6bFpYxQ"
ANALYSIS = "analysis-Gk0vzF80fPZ5kJ1gQ6bFpYxQ"
JOB = "job-Gk0vz2Q0fPZ9Xb4KqY7G1V5j"
FILE = "file-Gk0vy580fPZ2Bq7Vz9JYb3Xf"


def errors(spec: Spec, document: str, name: str, instance) -> list:
    return spec.type_validator(document, name).errors(instance)


def test_the_issue_covers_71_routes() -> None:
    assert len(ISSUE_ROUTES) == 71
    assert {"/workflow/new", "/workflow-xxxx/run", "/analysis-xxxx/describe", "/app-xxxx/run",
            "/globalworkflow-xxxx/run", "/system/findAnalyses", "/system/generateBatchInputs"} <= set(ISSUE_ROUTES)


@pytest.mark.parametrize("route_key", ISSUE_ROUTES)
def test_issue_route_has_a_complete_method_file(spec: Spec, route_key: str) -> None:
    doc = spec.method_doc(route_key)
    assert doc is not None, f"schemas/methods{route_key}.json is missing"
    assert doc.get("x-profile") == spec.route(route_key).profile
    assert {"input", "output"} <= set(doc["$defs"])
    assert doc["x-source"].strip() and isinstance(doc["x-errors"], list) and doc.get("x-notes")
    for direction in ("input", "output"):
        assert doc["x-examples"][direction]["valid"] and doc["x-examples"][direction]["invalid"], direction


@pytest.mark.parametrize(("name", "value", "valid"), [
    ("stageOutputLink", {"$dnanexus_link": {"stage": "stage-0", "outputField": "done"}}, True),
    ("stageOutputLink", {"$dnanexus_link": {"stage": "stage-0", "inputField": "done"}}, False),
    ("stageOutputLink", {"$dnanexus_link": {"stage": "stage-0", "outputField": "done", "index": 0}}, False),
    ("stageOutputLink", {"$dnanexus_link": {"stage": "stage-0", "outputField": "done"}, "x": 1}, False),
    ("stageInputLink", {"$dnanexus_link": {"stage": "my_id", "inputField": "n"}}, True),
    ("stageInputLink", {"$dnanexus_link": {"stage": "9x", "inputField": "n"}}, False),
    ("workflowInputLink", {"$dnanexus_link": {"workflowInputField": "in_1"}}, True),
    ("workflowInputLink", {"$dnanexus_link": {"workflowInputField": ""}}, False),
    ("workflowOutputSource", {"$dnanexus_link": {"stage": "stage_0", "outputField": "out"}}, True),
    ("workflowOutputSource", {"$dnanexus_link": {"workflowInputField": "in_1"}}, False),
])
def test_the_link_forms(spec: Spec, name: str, value, valid: bool) -> None:
    assert (errors(spec, WORKFLOWS, name, value) == []) is valid


@pytest.mark.parametrize(("value", "valid"), [
    ({"x": {"$dnanexus_link": {"stage": "stage-0", "outputField": "done"}}}, True),
    ({"x": {"$dnanexus_link": {"workflowInputField": "in_1"}}}, True),
    ({"x": {"$dnanexus_link": {"job": JOB, "field": "out"}}, "f": {"$dnanexus_link": FILE}, "n": 3}, True),
    ({"x": {"$dnanexus_link": {"stage": "stage-0"}}}, False),
    ({"x": {"$dnanexus_link": {"stage": "stage-0", "field": "done"}}}, False),
    ({"x": {"$dnanexus_link": {"workflowInputField": "in_1", "stage": "stage-0"}}}, False),
])
def test_a_stage_input_binding_that_names_a_stage_or_workflow_input_must_be_a_whole_link(spec: Spec, value,
                                                                                       valid: bool) -> None:
    assert (errors(spec, WORKFLOWS, "stageInputHash", value) == []) is valid


@pytest.mark.parametrize(("stage_id", "valid"), [
    ("stage-0", True), ("stage_0", True), ("my_id", True), ("stage-Gk0vzJ80fPZ5kJ1gQ6bFpYxZ", True),
    ("9lives", False), ("two words", False), ("stage-a.b", False), ("", False),
])
def test_stage_ids(spec: Spec, stage_id: str, valid: bool) -> None:
    assert (errors(spec, WORKFLOWS, "stageId", stage_id) == []) is valid


def test_an_edit_answers_the_id_and_a_non_negative_int_edit_version(spec: Spec) -> None:
    assert errors(spec, WORKFLOWS, "editVersionOutput", {"id": WORKFLOW, "editVersion": 3}) == []
    assert errors(spec, WORKFLOWS, "editVersionOutput", {"id": WORKFLOW})
    assert errors(spec, WORKFLOWS, "editVersionOutput", {"id": WORKFLOW, "editVersion": -1})
    assert errors(spec, WORKFLOWS, "editVersionOutput", {"id": APPLET, "editVersion": 1})
    assert errors(spec, WORKFLOWS, "editInput", {"editVersion": 0}) == []
    assert errors(spec, WORKFLOWS, "editInput", {})


def test_a_blank_workflow_describes_with_nulls(spec: Spec) -> None:
    blank = {"id": WORKFLOW, "class": "workflow", "state": "open", "title": WORKFLOW, "summary": "", "description": "",
             "outputFolder": None, "stages": [], "inputs": None, "outputs": None, "editVersion": 0}
    assert errors(spec, WORKFLOWS, "workflowDescribe", blank) == []
    assert errors(spec, WORKFLOWS, "workflowDescribe", dict(blank, editVersion=None))
    assert errors(spec, WORKFLOWS, "workflowDescribe", dict(blank, stages=[{"id": "s", "executable": WORKFLOW}]))
    assert errors(spec, WORKFLOWS, "workflowDescribe", dict(blank, **{"class": "record"}))


def test_an_analysis_has_analysis_states_and_job_describes_for_its_stages(spec: Spec) -> None:
    analysis = {"id": ANALYSIS, "class": "analysis", "state": "partially_failed",
                "stages": [{"id": "stage-0", "execution": {"id": JOB, "state": "failed", "failureReason": "AppError",
                                                           "failureMessage": "m"}}]}
    assert errors(spec, WORKFLOWS, "analysisDescribe", analysis) == []
    assert errors(spec, WORKFLOWS, "analysisDescribe", dict(analysis, state="running"))
    assert errors(spec, WORKFLOWS, "analysisDescribe", dict(analysis, failureReason="AppError"))
    assert errors(spec, WORKFLOWS, "analysisDescribe", dict(analysis, stages=[{"id": "stage-0", "execution": {}}]))
    assert errors(spec, WORKFLOWS, "analysisDescribe", dict(analysis, id=JOB))


def test_a_workflow_run_answers_the_analysis_and_its_stage_jobs(spec: Spec) -> None:
    assert errors(spec, WORKFLOWS, "runWorkflowOutput", {"id": ANALYSIS, "stages": [JOB]}) == []
    assert errors(spec, WORKFLOWS, "runWorkflowOutput", {"id": ANALYSIS, "stages": [ANALYSIS]})
    assert errors(spec, WORKFLOWS, "runWorkflowInput", {"input": {}, "ignoreReuse": ["stage-0"]}) == []
    assert errors(spec, WORKFLOWS, "runWorkflowInput", {"input": {}, "stageFolders": {"*": 1}})


@pytest.mark.parametrize(("name", "value", "valid"), [
    ("name", "bwa_mem-2.x", True), ("name", "two words", False), ("name", "", False), ("name", "a/b", False),
    ("version", "1.0.0", True), ("version", "10.2.33-beta.1+build.5", True), ("version", "1.0", False),
    ("version", "v1.0.0", False),
    ("principal", "PUBLIC", True), ("principal", "user-bob", True), ("principal", "org-lab", True),
    ("principal", "public", False), ("principal", "bob", False),
    ("developer", "org-lab", True), ("developer", "PUBLIC", False),
])
def test_app_names_versions_and_principals(spec: Spec, name: str, value: str, valid: bool) -> None:
    assert (errors(spec, APPS, name, value) == []) is valid


def test_an_app_describe_has_a_user_string_as_creator_and_may_be_fields_only(spec: Spec) -> None:
    app = {"id": APP, "class": "app", "name": "hello", "version": "1.0.0", "aliases": ["default", "1.0.0"],
           "createdBy": "user-alice", "published": 0, "deleted": False, "applet": APPLET}
    assert errors(spec, APPS, "appDescribe", app) == []
    assert errors(spec, APPS, "appDescribe", {"name": "hello", "version": "1.0.0"}) == []
    assert errors(spec, APPS, "appDescribe", dict(app, createdBy={"user": "user-alice"}))
    assert errors(spec, APPS, "appDescribe", dict(app, id=WORKFLOW))


@pytest.mark.parametrize(("body", "valid"), [
    ({"applet": APPLET, "name": "hello", "version": "1.0.0"}, True),
    ({"initializeFrom": APP, "version": "1.0.1"}, True),
    ({"applet": APPLET, "version": "1.0.0"}, False),
    ({"applet": APPLET, "initializeFrom": APP, "name": "hello", "version": "1.0.0"}, False),
    ({"applet": APPLET, "name": "hello"}, False),
])
def test_app_new_takes_an_applet_or_another_app_and_needs_a_version(spec: Spec, body, valid: bool) -> None:
    assert (spec.validator("/app/new", "input").errors(body) == []) is valid


@pytest.mark.parametrize("profile", ["workflows", "apps"])
def test_the_profile_exports_as_valid_openapi(spec: Spec, profile: str) -> None:
    from openapi_spec_validator import validate

    from conformance.spec.openapi import build_openapi

    document = build_openapi(spec, profile)
    validate(document)
    assert {op["post"]["x-dx-route"] for op in document["paths"].values()} == {
        r.route for r in spec.routes if r.profile == profile}


def test_the_issue_routes_stay_out_of_the_core_openapi_export(spec: Spec) -> None:
    from conformance.spec.openapi import build_openapi

    routes = {op["post"]["x-dx-route"] for op in build_openapi(spec)["paths"].values()}
    assert not routes & set(ISSUE_ROUTES)

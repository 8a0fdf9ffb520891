"""Workflows over HTTP: /workflow/new, the editVersion edits, describe (stages, derived I/O specs, locked
workflows), updateStageExecutable/isStageCompatible, overwrite, validateBatch, /system/generateBatchInputs,
and bad input on every workflow route (a clear 4xx, never a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from .dataobject_support import new_file, share, wait_closed

BASH = {"interpreter": "bash", "code": "main() {\n  :\n}\n", "distribution": "Ubuntu", "release": "24.04",
        "version": "0"}
MISSING = "workflow-B00000000000000000000000"


def new_applet(client, project: str, inputs: list | None = None, outputs: list | None = None,
               user: str = "alice") -> str:
    body: dict[str, Any] = {"project": project, "dxapi": "1.0.0", "runSpec": BASH}
    if inputs is not None:
        body["inputSpec"] = inputs
    if outputs is not None:
        body["outputSpec"] = outputs
    return client.ok("/applet/new", body, user)["id"]


def new_workflow(client, project: str, user: str = "alice", **fields: Any) -> str:
    return client.ok("/workflow/new", {"project": project, **fields}, user)["id"]


@pytest.fixture()
def number_applet(client, project) -> str:
    return new_applet(client, project, [{"name": "number", "class": "int"},
                                        {"name": "extra", "class": "string", "optional": True}],
                      [{"name": "total", "class": "int"}])


def describe(client, wf: str) -> dict[str, Any]:
    return client.ok(f"/{wf}/describe", {})


def test_blank_workflow_describe(client, project):
    wf = new_workflow(client, project)
    desc = client.ok(f"/{wf}/describe", {"properties": True, "details": True})
    assert desc["state"] == "open" and desc["class"] == "workflow"
    assert (desc["title"], desc["summary"], desc["description"], desc["outputFolder"]) == (wf, "", "", None)
    assert (desc["stages"], desc["inputs"], desc["outputs"], desc["editVersion"]) == ([], None, None, 0)
    assert (desc["inputSpec"], desc["outputSpec"], desc["temporary"]) == ([], [], False)
    assert "initializedFrom" not in desc
    assert len(desc) == 27  # the recorded key set (real-responses INDEX, fact 5)


def test_stages_and_derived_specs(client, project, number_applet):
    wf = new_workflow(client, project, stages=[
        {"id": "first", "executable": number_applet, "input": {"number": 3}},
        {"id": "second", "executable": number_applet,
         "input": {"number": {"$dnanexus_link": {"stage": "first", "outputField": "total"}}}}])
    desc = describe(client, wf)
    assert [s["id"] for s in desc["stages"]] == ["first", "second"]
    assert desc["stages"][0] == {"id": "first", "name": None, "executable": number_applet, "folder": None,
                                 "input": {"number": 3}, "executionPolicy": {}, "systemRequirements": {},
                                 "accessible": True}
    names = [e["name"] for e in desc["inputSpec"]]
    assert names == ["first.number", "first.extra", "second.number", "second.extra"]
    assert desc["inputSpec"][0] == {"class": "int", "name": "first.number", "group": "first", "default": 3}
    assert desc["inputSpec"][2]["default"] == {"$dnanexus_link": {"stage": "first", "outputField": "total"}}
    assert [e["name"] for e in desc["outputSpec"]] == ["first.total", "second.total"]


def test_generated_stage_id(client, project, number_applet):
    wf = new_workflow(client, project)
    answer = client.ok(f"/{wf}/addStage", {"editVersion": 0, "executable": number_applet})
    assert answer["stage"].startswith("stage-") and len(answer["stage"]) == 30
    assert answer == {"id": wf, "editVersion": 1, "stage": answer["stage"]}


@pytest.mark.parametrize("stage", [
    {"id": "1bad", "executable": "A"}, {"id": "stage-x.y", "executable": "A"}, {"executable": 5},
    {"executable": "file-B00000000000000000000000"}, {"id": "a"}, {"executable": "A", "name": 3},
    {"executable": "A", "input": []}, {"executable": "A", "input": {"nope": 1}},
    {"executable": "A", "folder": ""}, {"executable": "A", "folder": "a/../b"}, {"executable": "A", "folder": 3},
    {"executable": "A", "systemRequirements": {"*": {"instanceType": "huge"}}},
    {"executable": "A", "systemRequirements": []}, {"executable": "A", "executionPolicy": 1},
    # found by the fuzzer at 80 examples per route (issue 21): restartOn must be a hash of integers
    {"executable": "A", "executionPolicy": {"restartOn": 1.5}},
    {"executable": "A", "executionPolicy": {"restartOn": {"*": "x"}}},
    {"executable": "A", "input": {"number": {"$dnanexus_link": {"stage": "nope", "outputField": "total"}}}},
    {"executable": "A", "input": {"number": {"$dnanexus_link": {"stage": "s0", "outputField": "nope"}}}},
    {"executable": "A", "input": {"number": {"$dnanexus_link": {"stage": "s0", "inputField": "nope"}}}},
    {"executable": "A", "input": {"number": {"$dnanexus_link": {"stage": "s0"}}}},
    {"executable": "A", "input": {"number": {"$dnanexus_link": {"workflowInputField": "x"}}}},
    {"executable": "A", "input": {"number": {"$dnanexus_link": {"stage": "s0", "outputField": "total"}, "x": 1}}},
    "not a stage"])
def test_add_stage_refuses_bad_stages(client, project, number_applet, stage):
    wf = new_workflow(client, project, stages=[{"id": "s0", "executable": number_applet}])
    body = {k: (number_applet if v == "A" else v) for k, v in stage.items()} if isinstance(stage, dict) else stage
    if isinstance(body, dict):
        body["editVersion"] = 0
        client.expect_error(f"/{wf}/addStage", body, "InvalidInput", 422)
    client.expect_error("/workflow/new", {"project": project, "stages": [body]}, "InvalidInput", 422)
    assert describe(client, wf)["editVersion"] == 0 and len(describe(client, wf)["stages"]) == 1


def test_stage_executable_rules(client, project, number_applet):
    other = new_workflow(client, project)
    client.expect_error("/workflow/new", {"project": project, "stages": [{"executable": other}]}, "InvalidInput", 422)
    bobs = client.new_project("bob's", user="bob")
    bob_applet = new_applet(client, bobs, user="bob")
    client.expect_error("/workflow/new", {"project": project, "stages": [{"executable": bob_applet}]},
                        "ResourceNotFound", 404)
    client.expect_error("/workflow/new", {"project": project, "stages": [{"executable": "app-nosuchapp"}]},
                        "ResourceNotFound", 404)
    duplicate = [{"id": "a", "executable": number_applet}, {"id": "a", "executable": number_applet}]
    client.expect_error("/workflow/new", {"project": project, "stages": duplicate}, "InvalidInput", 422)


def test_edit_version_rules(client, project, number_applet):
    wf = new_workflow(client, project)
    client.expect_error(f"/{wf}/addStage", {"executable": number_applet}, "InvalidInput", 422)
    client.expect_error(f"/{wf}/addStage", {"executable": number_applet, "editVersion": "0"}, "InvalidInput", 422)
    client.expect_error(f"/{wf}/addStage", {"executable": number_applet, "editVersion": True}, "InvalidInput", 422)
    client.expect_error(f"/{wf}/addStage", {"executable": number_applet, "editVersion": 1}, "InvalidState", 422)
    assert describe(client, wf)["stages"] == []
    assert client.ok(f"/{wf}/update", {"editVersion": 0, "title": "T"})["editVersion"] == 1
    assert client.ok(f"/{wf}/update", {"editVersion": 1, "title": "T"})["editVersion"] == 1  # no-op
    assert client.ok(f"/{wf}/update", {"editVersion": 1})["editVersion"] == 1
    client.expect_error(f"/{wf}/update", {"editVersion": 0, "title": "U"}, "InvalidState", 422)
    assert describe(client, wf)["title"] == "T"


def test_move_and_remove(client, project, number_applet):
    stages = [{"id": f"s{i}", "executable": number_applet} for i in range(3)]
    wf = new_workflow(client, project, stages=stages)
    assert client.ok(f"/{wf}/moveStage", {"editVersion": 0, "stage": "s0", "newIndex": 2})["editVersion"] == 1
    assert [s["id"] for s in describe(client, wf)["stages"]] == ["s1", "s2", "s0"]
    assert client.ok(f"/{wf}/moveStage", {"editVersion": 1, "stage": "s0", "newIndex": 2})["editVersion"] == 1
    for bad in ({"stage": "s0", "newIndex": 3}, {"stage": "s0", "newIndex": -1}, {"stage": "s0"},
                {"stage": "zz", "newIndex": 0}, {"stage": 1, "newIndex": 0}, {"stage": "s0", "newIndex": "1"}):
        client.expect_error(f"/{wf}/moveStage", {"editVersion": 1, **bad}, "InvalidInput", 422)
    assert client.ok(f"/{wf}/removeStage", {"editVersion": 1, "stage": "s1"})["editVersion"] == 2
    client.expect_error(f"/{wf}/removeStage", {"editVersion": 2, "stage": "s1"}, "InvalidInput", 422)
    assert [s["id"] for s in describe(client, wf)["stages"]] == ["s2", "s0"]


def test_update_fields_and_stages(client, project, number_applet):
    wf = new_workflow(client, project, title="t", outputFolder="/out//x/",
                      stages=[{"id": "s", "executable": number_applet, "input": {"number": 1, "extra": "e"}}])
    assert describe(client, wf)["outputFolder"] == "/out/x"
    client.ok(f"/{wf}/update", {"editVersion": 0, "title": None, "outputFolder": None, "summary": "S",
                                "stages": {"s": {"name": "N", "folder": "rel/", "input": {"extra": None},
                                                 "systemRequirements": {"*": {"instanceType": "mem1_ssd1_x2"}}}}})
    desc = describe(client, wf)
    assert (desc["title"], desc["outputFolder"], desc["summary"], desc["editVersion"]) == (wf, None, "S", 1)
    assert desc["stages"][0]["input"] == {"number": 1} and desc["stages"][0]["folder"] == "rel"
    assert desc["stages"][0]["name"] == "N"
    for bad in ({"title": 5}, {"summary": []}, {"outputFolder": "rel"}, {"stages": {"zz": {}}},
                {"stages": {"s": {"executable": number_applet}}}, {"stages": {"s": []}}, {"stages": []},
                {"inputs": {}}, {"outputs": [{"name": "o", "class": "int"}]},
                {"outputs": [{"name": "o", "class": "int",
                              "outputSource": {"$dnanexus_link": {"stage": "s", "outputField": "nope"}}}]},
                {"stages": {"s": {"input": {"number": {"$dnanexus_link": {"workflowInputField": "w"}}}}}}):
        client.expect_error(f"/{wf}/update", {"editVersion": 1, **bad}, "InvalidInput", 422)
    assert describe(client, wf)["editVersion"] == 1


def test_workflow_inputs_outputs_and_locking(client, project, number_applet):
    inputs = [{"name": "n", "class": "int"}]
    outputs = [{"name": "o", "class": "int",
                "outputSource": {"$dnanexus_link": {"stage": "s", "outputField": "total"}}}]
    stage = {"id": "s", "executable": number_applet,
             "input": {"number": {"$dnanexus_link": {"workflowInputField": "n"}}}}
    wf = new_workflow(client, project, inputs=inputs, outputs=outputs, stages=[stage])
    desc = describe(client, wf)
    assert [e["name"] for e in desc["inputSpec"]] == ["s.number", "s.extra"]  # not locked while open
    assert desc["outputSpec"] == [{"name": "o", "class": "int"}]
    client.ok(f"/{wf}/close", {})
    client.ok(f"/{wf}/close", {})
    desc = describe(client, wf)
    assert desc["state"] == "closed" and desc["inputSpec"] == inputs
    client.expect_error(f"/{wf}/update", {"editVersion": 0, "title": "x"}, "InvalidState", 422)
    client.expect_error(f"/{wf}/addTypes", {"types": ["T"]}, "InvalidState", 422)


def test_initialize_from(client, project, number_applet):
    src = new_workflow(client, project, title="t", summary="s", description="d", outputFolder="/o",
                       stages=[{"id": "keep", "name": "n", "executable": number_applet}])
    client.ok(f"/{src}/update", {"editVersion": 0, "summary": "s2"})
    wf = new_workflow(client, project, initializeFrom={"id": src, "project": project}, description="mine")
    desc = describe(client, wf)
    assert (desc["title"], desc["summary"], desc["description"], desc["outputFolder"]) == ("t", "s2", "mine", "/o")
    assert [(s["id"], s["name"]) for s in desc["stages"]] == [("keep", "n")]
    assert desc["initializedFrom"] == {"id": src, "editVersion": 1} and desc["editVersion"] == 0
    for bad in ("x", {"id": "record-B00000000000000000000000"}, {"id": 3}, {}):
        client.expect_error("/workflow/new", {"project": project, "initializeFrom": bad}, "InvalidInput", 422)
    for missing in (MISSING, "analysis-B00000000000000000000000"):
        client.expect_error("/workflow/new", {"project": project, "initializeFrom": {"id": missing}},
                            "ResourceNotFound", 404)


def test_update_stage_executable_and_compatibility(client, project, number_applet):
    other = new_applet(client, project, [{"name": "word", "class": "string"}], [])
    superset = new_applet(client, project, [{"name": "number", "class": "int"},
                                            {"name": "extra", "class": "string", "optional": True},
                                            {"name": "more", "class": "int", "default": 1}],
                          [{"name": "total", "class": "int"}, {"name": "x", "class": "int"}])
    wf = new_workflow(client, project, stages=[{"id": "s", "executable": number_applet, "input": {"number": 2}}])
    answer = client.ok(f"/{wf}/isStageCompatible", {"stage": "s", "executable": other})
    assert answer["compatible"] is False and answer["incompatibilities"]
    assert client.ok(f"/{wf}/isStageCompatible", {"stage": "s", "executable": superset}) == {"compatible": True}
    client.expect_error(f"/{wf}/updateStageExecutable", {"editVersion": 0, "stage": "s", "executable": other},
                        "InvalidState", 422)
    assert describe(client, wf)["stages"][0]["executable"] == number_applet
    client.expect_error(f"/{wf}/updateStageExecutable", {"editVersion": 0, "stage": "s", "executable": other,
                                                         "force": "yes"}, "InvalidInput", 422)
    assert client.ok(f"/{wf}/updateStageExecutable", {"editVersion": 0, "stage": "s", "executable": other,
                                                      "force": True})["editVersion"] == 1
    stage = describe(client, wf)["stages"][0]
    assert stage["executable"] == other and stage["input"] == {}
    assert client.ok(f"/{wf}/updateStageExecutable",
                     {"editVersion": 1, "stage": "s", "executable": other})["editVersion"] == 1  # same: no-op
    for bad in ({"stage": "zz", "executable": other}, {"stage": "s"}, {"stage": "s", "executable": wf}):
        client.expect_error(f"/{wf}/isStageCompatible", bad, "InvalidInput", 422)


def test_overwrite(client, project, number_applet):
    src = new_workflow(client, project, title="src", stages=[{"id": "a", "executable": number_applet}])
    wf = new_workflow(client, project, title="dst", name="keep-name")
    assert client.ok(f"/{wf}/overwrite", {"editVersion": 0, "from": {"workflow": src, "project": project}}) == \
        {"id": wf, "editVersion": 1}
    desc = describe(client, wf)
    assert (desc["title"], desc["name"], [s["id"] for s in desc["stages"]]) == ("src", "keep-name", ["a"])
    assert client.ok(f"/{wf}/overwrite", {"editVersion": 1, "from": {"workflow": src}})["editVersion"] == 1
    for bad in ({}, {"from": src}, {"from": {"workflow": "file-B00000000000000000000000"}}):
        client.expect_error(f"/{wf}/overwrite", {"editVersion": 1, **bad}, "InvalidInput", 422)
    client.expect_error(f"/{wf}/overwrite", {"editVersion": 1, "from": {"workflow": MISSING}},
                        "ResourceNotFound", 404)


def test_permissions(client, project, number_applet):
    wf = new_workflow(client, project)
    client.expect_error(f"/{wf}/describe", {}, "ResourceNotFound", 404, user="bob")
    client.expect_error(f"/{wf}/update", {"editVersion": 0, "title": "b"}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    assert client.ok(f"/{wf}/describe", {}, user="bob")["id"] == wf
    client.expect_error(f"/{wf}/update", {"editVersion": 0, "title": "b"}, "PermissionDenied", 401, user="bob")
    client.expect_error("/workflow/new", {"project": project}, "PermissionDenied", 401, user="bob")
    assert describe(client, wf)["editVersion"] == 0


def test_validate_batch(client, project, number_applet):
    wf = new_workflow(client, project, stages=[{"id": "s", "executable": number_applet}])
    answer = client.ok(f"/{wf}/validateBatch", {"batchInput": {"s.number": [1, 2]}, "commonInput": {"s.extra": "e"}})
    assert answer == {"expandedBatch": [{"s.extra": "e", "s.number": 1}, {"s.extra": "e", "s.number": 2}]}
    client.expect_error(f"/{wf}/validateBatch", {"batchInput": {"s.number": ["x"]}}, "InvalidInput", 422)
    client.expect_error(f"/{wf}/validateBatch", {"batchInput": {"nope": [1]}}, "InvalidInput", 422)


def test_generate_batch_inputs(client, project):
    for name in ("SRR1_1.gz", "SRR1_2.gz", "SRR2_1.gz", "other.txt"):
        fid = new_file(client, project, name=name)
        client.ok(f"/{fid}/close", {})
        wait_closed(client, fid)
    new_file(client, project, name="SRR3_1.gz")  # open: not a candidate
    answer = client.ok("/system/generateBatchInputs", {"project": project, "folder": "/",
                                                        "inputs": {"a": "SRR(.*)_1.gz", "b": "SRR(.*)_2.gz"}})
    batches = {b["batchPattern"]: b for b in answer["batchInputs"]}
    assert sorted(batches) == ["1", "2"]
    assert "error" not in batches["1"] and batches["1"]["inputs"]["a"]["name"] == "SRR1_1.gz"
    assert batches["1"]["inputs"]["a"]["ids"][0].startswith("file-")
    assert "error" in batches["2"] and set(batches["2"]["inputs"]) == {"a"}
    for bad in ({"inputs": {"a": "SRR.*"}}, {"inputs": {"a": "(a)\\1"}}, {"inputs": {}}, {"inputs": {"a": 1}},
                {"inputs": {"a": "(x)"}, "folder": "rel"}):
        client.expect_error("/system/generateBatchInputs", {"project": project, **bad}, "InvalidInput", 422)


ROUTES_WITH_BODIES = ["addStage", "removeStage", "moveStage", "update", "updateStageExecutable",
                      "isStageCompatible", "overwrite", "validateBatch", "close", "describe"]


@pytest.mark.parametrize("method", ROUTES_WITH_BODIES)
@pytest.mark.parametrize("body", [[], "x", 5, {"editVersion": None}, {"editVersion": 0, "stage": {"a": 1}},
                                  {"editVersion": 0, "executable": [], "stage": []},
                                  {"editVersion": 0, "stages": {"s": {"input": {"number": {"$dnanexus_link": []}}}}},
                                  {"editVersion": 0, "from": {"workflow": []}, "batchInput": []}])
def test_bad_input_is_never_a_500(client, project, number_applet, method, body):
    wf = new_workflow(client, project, stages=[{"id": "s", "executable": number_applet}])
    answer = client.call(f"/{wf}/{method}", body)
    assert 400 <= answer.status < 500 or answer.status == 200, answer


def test_app_stages(client, project, number_applet):
    app_id = client.ok("/app/new", {"applet": number_applet, "name": "wfstageapp", "version": "1.0.0"})["id"]
    wf = new_workflow(client, project, stages=[{"id": "by_id", "executable": app_id},
                                               {"id": "by_name", "executable": "app-wfstageapp"},
                                               {"id": "by_version", "executable": "app-wfstageapp/1.0.0"}])
    desc = describe(client, wf)
    assert [s["executable"] for s in desc["stages"]] == [app_id] * 3
    assert all(s["accessible"] for s in desc["stages"])
    assert [e["name"] for e in desc["inputSpec"]][:2] == ["by_id.number", "by_id.extra"]
    # bob sees the workflow (VIEW) but not the unpublished app: its stages are not accessible to him
    share(client, project, "VIEW")
    bobs_view = client.ok(f"/{wf}/describe", {}, user="bob")
    assert [s["accessible"] for s in bobs_view["stages"]] == [False] * 3 and bobs_view["inputSpec"] == []
    bobs = client.new_project("bob's", user="bob")
    client.expect_error("/workflow/new", {"project": bobs, "stages": [{"executable": app_id}]},
                        "ResourceNotFound", 404, user="bob")
    client.expect_error("/workflow/new", {"project": project, "stages": [{"executable": "app-wfstageapp/9.9.9"}]},
                        "ResourceNotFound", 404)


def test_dxpy_workflow_round_trip(dx, dx_project):
    """Unmodified dxpy: new_dxworkflow, add/move/remove/update stages with its cached editVersion, a stale
    edit raising DXAPIError, update_stage with and without force, describe_data_objects over a workflow."""
    applet = dx.DXApplet()
    applet.new(dxapi="1.0.0", inputSpec=[{"name": "my_input", "class": "string"}], outputSpec=[],
               runSpec=BASH)
    other = dx.DXApplet()
    other.new(dxapi="1.0.0", inputSpec=[{"name": "my_new_input", "class": "string"}], outputSpec=[],
              runSpec=BASH)
    workflow = dx.new_dxworkflow(title="mytitle", output_folder="/foo")
    first = workflow.add_stage(applet, name="stagename", folder="/outputfolder", stage_input={"my_input": "hi"},
                               instance_type="mem2_hdd2_x2")
    assert workflow.editVersion == 1 and workflow.stages[0]["systemRequirements"] == {"*": {"instanceType": "mem2_hdd2_x2"}}
    second = workflow.add_stage(applet, name="other", folder="relativefolder", edit_version=1)
    with pytest.raises(dx.exceptions.DXAPIError):
        workflow.add_stage(applet, edit_version=1)
    workflow.move_stage(0, 1)
    assert [s["id"] for s in workflow.stages] == [second, first] and workflow.editVersion == 3
    workflow.update(unset_title=True, stages={first: {"input": {"my_input": None}}})
    assert workflow.title == workflow.get_id() and "my_input" not in workflow.get_stage(first)["input"]
    workflow.update_stage(first, stage_input={"my_input": "again"})
    with pytest.raises(dx.exceptions.DXAPIError) as refused:
        workflow.update_stage(first, executable=other)
    assert refused.value.name == "InvalidState" and workflow.get_stage(first)["executable"] == applet.get_id()
    workflow.update_stage(first, executable=other, force=True)
    assert workflow.get_stage(first)["executable"] == other.get_id() and workflow.get_stage(first)["input"] == {}
    assert workflow.remove_stage(second) == second
    described = dx.describe([workflow.get_id(), applet.get_id()])
    assert [d["class"] for d in described] == ["workflow", "applet"]
    copy = dx.new_dxworkflow(init_from=workflow)
    assert copy.describe()["outputFolder"] == "/foo" and [s["id"] for s in copy.stages] == [first]


def test_initialize_from_an_analysis(client, project, number_applet):
    wf = new_workflow(client, project, title="ran", outputFolder="/o",
                      stages=[{"id": "s", "name": "S", "executable": number_applet, "input": {"number": 4}}])
    analysis = client.ok(f"/{wf}/run", {"project": project, "input": {}})["id"]
    client.ok(f"/{wf}/update", {"editVersion": 0, "title": "changed later"})
    copy = new_workflow(client, project, initializeFrom={"id": analysis})
    desc = describe(client, copy)
    assert (desc["title"], desc["outputFolder"], desc["initializedFrom"]) == ("ran", "/o", {"id": analysis})
    assert [(s["id"], s["name"], s["input"]) for s in desc["stages"]] == [("s", "S", {"number": 4})]
    assert set(desc["stages"][0]) == {"id", "name", "executable", "folder", "input", "executionPolicy",
                                      "systemRequirements", "accessible"}
    bobs = client.new_project("bob's", user="bob")
    client.expect_error("/workflow/new", {"project": bobs, "initializeFrom": {"id": analysis}},
                        "ResourceNotFound", 404, user="bob")
    client.ok(f"/{project}/destroy", {"terminateJobs": True})

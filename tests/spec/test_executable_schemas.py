"""The executables schemas of issue 18's first slice: every applet/job/execution-search route has a complete
method file, and the shared executable types (types/executables.json) accept and refuse what they should."""

from __future__ import annotations

import pytest

from conformance.spec import Spec, load_spec

SPEC = load_spec()
TYPES = "types/executables.json"
SLICE_ROUTES = sorted(r.route for r in SPEC.routes
                      if r.cls in ("applet", "job")
                      or r.route in ("/system/findExecutions", "/system/findJobs", "/system/describeExecutions"))
JOB = "job-Gk0vz2Q0fPZ9Xb4KqY7G1V5j"
ANALYSIS = "analysis-Gk0vzF80fPZ5kJ1gQ6bFpYxQ"
FILE = "file-Gk0vy580fPZ2Bq7Vz9JYb3Xf"


def errors(spec: Spec, name: str, instance) -> list:
    return spec.type_validator(TYPES, name).errors(instance)


def test_the_slice_is_the_23_routes_of_the_issue() -> None:
    assert len(SLICE_ROUTES) == 23
    assert {"/applet/new", "/applet-xxxx/run", "/job/new", "/job-xxxx/getLog"} <= set(SLICE_ROUTES)


@pytest.mark.parametrize("route_key", SLICE_ROUTES)
def test_slice_route_has_a_complete_executables_method_file(spec: Spec, route_key: str) -> None:
    doc = spec.method_doc(route_key)
    assert doc is not None, f"schemas/methods{route_key}.json is missing"
    assert doc.get("x-profile") == "executables" == spec.route(route_key).profile
    assert {"input", "output"} <= set(doc["$defs"])
    assert doc["x-source"].strip() and isinstance(doc["x-errors"], list) and doc.get("x-notes")
    for direction in ("input", "output"):
        assert doc["x-examples"][direction]["valid"] and doc["x-examples"][direction]["invalid"], direction


@pytest.mark.parametrize(("entry", "valid"), [
    ({"name": "n", "class": "int", "default": 3, "choices": [1, 3]}, True),
    ({"name": "n", "class": "int", "default": 2.5}, False),
    ({"name": "x", "class": "float", "default": 2.5}, True),
    ({"name": "s", "class": "string", "choices": ["a", 1]}, False),
    ({"name": "b", "class": "boolean", "default": "true"}, False),
    ({"name": "h", "class": "hash", "default": {"k": [1]}}, True),
    ({"name": "f", "class": "file", "default": {"$dnanexus_link": FILE}}, True),
    ({"name": "f", "class": "file", "default": FILE}, False),
    ({"name": "f", "class": "file", "choices": [{"value": {"$dnanexus_link": FILE}, "name": "ref"}]}, True),
    ({"name": "r", "class": "record", "default": {"$dnanexus_link": {"project": "project-Gk0vqY80fPZ8Jz1B4pXQ6yZK",
                                                                      "id": "record-Gk0vyV80fPZ5kJ1gQ6bFpYxB"}}}, True),
    ({"name": "a", "class": "applet", "optional": True}, True),
    ({"name": "fs", "class": "array:file", "default": [{"$dnanexus_link": FILE}], "patterns": ["*.bam"]}, True),
    ({"name": "ns", "class": "array:int", "default": 1}, False),
    ({"name": "ns", "class": "array:int", "default": [1, "2"]}, False),
    ({"name": "p", "class": "file", "patterns": {"name": ["*.vcf.gz"], "class": "file", "tag": ["x"]}}, True),
    ({"name": "n", "class": "int", "help": "h", "label": "l", "group": "g", "optional": False}, True),
    ({"name": "n", "class": "int", "help": 1}, False),
    ({"name": "n", "class": "array:array:int"}, False),
    ({"name": "n", "class": "number"}, False),
    ({"name": "two words", "class": "int"}, False),
    ({"class": "int"}, False),
])
def test_io_spec_entry_ties_default_and_choices_to_the_class(spec: Spec, entry, valid: bool) -> None:
    assert (errors(spec, "ioSpecEntry", entry) == []) is valid


@pytest.mark.parametrize(("value", "valid"), [
    ({"$dnanexus_link": {"job": JOB, "field": "out"}}, True),
    ({"$dnanexus_link": {"job": JOB, "field": "out", "index": 0, "metadata": "name"}}, True),
    ({"$dnanexus_link": {"job": JOB, "field": "out", "index": -1}}, False),
    ({"$dnanexus_link": {"job": JOB}}, False),
    ({"$dnanexus_link": {"job": FILE, "field": "out"}}, False),
    ({"$dnanexus_link": {"job": JOB, "field": "out"}, "extra": 1}, False),
    ({"job": JOB, "field": "out"}, False),
])
def test_jbor(spec: Spec, value, valid: bool) -> None:
    assert (errors(spec, "jbor", value) == []) is valid


def test_the_bare_jbor_is_exactly_job_and_field(spec: Spec) -> None:
    assert errors(spec, "bareJbor", {"job": JOB, "field": "out"}) == []
    assert errors(spec, "bareJbor", {"job": JOB, "field": "out", "index": 0})


def test_run_spec_input_needs_interpreter_and_code_but_describe_has_no_code(spec: Spec) -> None:
    assert errors(spec, "runSpecInput", {"interpreter": "python3", "code": "import dxpy"}) == []
    assert errors(spec, "runSpecInput", {"interpreter": "bash"})
    assert errors(spec, "runSpecInput", {"interpreter": "ruby", "code": "x"})
    assert errors(spec, "runSpecOutput", {"interpreter": "bash", "bundledDependsByRegion": {"aws:us-east-1": []}}) == []
    assert errors(spec, "runSpecOutput", {"code": "x"})


def test_job_states_and_the_failure_pair(spec: Spec) -> None:
    for state in ("idle", "waiting_on_input", "runnable", "running", "waiting_on_output", "done", "failed",
                  "terminating", "terminated"):
        assert errors(spec, "jobState", state) == []
    assert errors(spec, "jobState", "in_progress")
    assert errors(spec, "jobDescribe", {"id": JOB, "failureReason": "AppError", "failureMessage": "m"}) == []
    assert errors(spec, "jobDescribe", {"id": JOB, "failureReason": "AppError"})


def test_an_execution_describe_is_read_by_its_id_class(spec: Spec) -> None:
    assert errors(spec, "executionDescribe", {"id": JOB, "state": "done"}) == []
    assert errors(spec, "executionDescribe", {"id": ANALYSIS, "state": "in_progress"}) == []
    assert errors(spec, "executionDescribe", {"id": JOB, "state": "in_progress"})
    assert errors(spec, "executionDescribe", {"id": ANALYSIS, "state": "runnable"})


def test_access(spec: Spec) -> None:
    assert errors(spec, "access", {"network": ["*"], "project": "VIEW", "allProjects": "UPLOAD", "developer": True}) == []
    assert errors(spec, "access", {"network": []}) == []
    assert errors(spec, "access", {"project": "NONE"})


def test_the_executables_routes_stay_out_of_the_core_openapi_export(spec: Spec) -> None:
    # Fuzzing draws from the core export only: schemas for executables must not make it call these routes.
    from conformance.spec.openapi import build_openapi

    routes = {op["post"]["x-dx-route"] for op in build_openapi(spec)["paths"].values()}
    assert not routes & set(SLICE_ROUTES)


def test_the_executables_profile_exports_as_valid_openapi(spec: Spec) -> None:
    # What the next slices' fuzzing will draw from: it must already be a valid, loadable OpenAPI document.
    from openapi_spec_validator import validate

    from conformance.spec.openapi import build_openapi

    document = build_openapi(spec, "executables")
    validate(document)
    assert {op["post"]["x-dx-route"] for op in document["paths"].values()} == set(SLICE_ROUTES)

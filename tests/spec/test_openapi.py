"""The OpenAPI export of the core profile: valid 3.1, self-contained, one operation per core route, loadable."""

from __future__ import annotations

import re

import pytest
import schemathesis
from openapi_spec_validator import validate
from schemathesis.specs.openapi.expressions import parser

from conformance.spec import Spec
from conformance.spec.openapi import (
    build_openapi,
    has_external_refs,
    operation_count,
    operation_id,
    path_template,
)

PROTOCOL_STATUSES = {"400", "401", "404", "422", "429", "503"}


@pytest.fixture(scope="module")
def document(spec: Spec) -> dict:
    return build_openapi(spec)


@pytest.fixture(scope="module")
def operations(document: dict) -> dict[str, dict]:
    """x-dx-route -> operation."""
    return {op["x-dx-route"]: op for item in document["paths"].values() for op in item.values()}


def test_document_is_valid_openapi_3_1(document: dict) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_one_post_operation_per_core_route(spec: Spec, document: dict, operations: dict) -> None:
    core = {r.route for r in spec.profile_routes("core")}
    assert set(operations) == core
    assert operation_count(document) == len(core) == 62
    assert all(set(item) == {"post"} for item in document["paths"].values())


def test_operation_ids_are_unique_and_follow_the_wrapper_names(operations: dict) -> None:
    ids = [op["operationId"] for op in operations.values()]
    assert len(ids) == len(set(ids))
    assert operations["/file-xxxx/close"]["operationId"] == "fileClose"
    assert operations["/system/whoami"]["operationId"] == "systemWhoami"
    assert operations["/project/new"]["operationId"] == "projectNew"


def test_instance_paths_carry_the_class_and_a_hash_parameter(spec: Spec, operations: dict) -> None:
    for route_key, op in operations.items():
        route = spec.route(route_key)
        if route.subject_kind != "instance":
            assert "parameters" not in op
            continue
        assert path_template(route) == f"/{route.cls}-{{{route.cls}_hash}}/{route.method}"
        [param] = op["parameters"]
        assert (param["name"], param["in"], param["required"]) == (f"{route.cls}_hash", "path", True)
        pattern = re.compile(param["schema"]["pattern"])
        assert pattern.match("B0000000000000000000000Q") and not pattern.match("B000")


def test_bodies_come_from_the_method_schemas(spec: Spec, document: dict, operations: dict) -> None:
    components = document["components"]["schemas"]
    for route_key, op in operations.items():
        body_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        answer_ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        for ref, direction in ((body_ref, "input"), (answer_ref, "output")):
            name = ref.removeprefix("#/components/schemas/")
            assert name.endswith(f".{direction}") and name in components, (route_key, ref)
    # the bundle keeps the DNAnexus annotations the strict-int check reads
    assert components["common.timestamp"]["x-dx-type"] == "timestamp"


def test_every_documented_error_status_is_declared(spec: Spec, operations: dict) -> None:
    for route_key, op in operations.items():
        declared = set(op["responses"]) - {"200"}
        assert PROTOCOL_STATUSES <= declared, route_key
        for name in spec.method_doc(route_key).get("x-errors", []):
            status = spec.error_types[name]["status"]
            if status is not None:
                assert str(status) in declared and name in op["responses"][str(status)]["description"]
        for status in declared:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/errors.envelope"}
        assert "Retry-After" in op["responses"]["503"]["headers"]


def test_the_document_is_self_contained(document: dict) -> None:
    assert not has_external_refs(document)
    assert has_external_refs({"a": [{"$ref": "../../types/common.json#/$defs/int"}]})


def test_bearer_auth_is_declared(document: dict, operations: dict) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "Authorization: Bearer <token>"}
    assert document["security"] == [{"bearerAuth": []}]
    assert {} in operations["/system/greet"]["security"]  # greet answers without a token too


@pytest.mark.parametrize("cls", ["project", "file", "record"])
def test_new_links_to_every_instance_route_of_its_class(spec: Spec, operations: dict, cls: str) -> None:
    links = operations[f"/{cls}/new"]["responses"]["200"]["links"]
    instance_routes = [r for r in spec.profile_routes("core") if r.subject_kind == "instance" and r.cls == cls]
    assert instance_routes
    for route in instance_routes:
        link = links[operation_id(route)]
        assert link["operationId"] == operation_id(route)
        [(name, expression)] = link["parameters"].items()
        assert name == f"{cls}_hash" and expression.startswith("$response.body#/id")
        # schemathesis reads the regex extractor and gets the bare hash out of the full ID
        [node] = parser.parse(expression)
        assert node.pointer == "#/id"
        assert node.extractor.extract(f"{cls}-B0000000000000000000000Q") == "B0000000000000000000000Q"


def test_project_new_feeds_the_project_of_the_constructors(operations: dict) -> None:
    links = operations["/project/new"]["responses"]["200"]["links"]
    for target in ("fileNew", "recordNew"):
        assert links[target]["requestBody"] == {"project": "$response.body#/id"}
    describe = operations["/file/new"]["responses"]["200"]["links"]["fileDescribe"]
    assert describe["requestBody"] == {"project": "$request.body#/project"}


def test_schemathesis_loads_it_with_one_operation_per_core_route(spec: Spec, document: dict) -> None:
    schema = schemathesis.openapi.from_dict(document)
    labels = {result.ok().label for result in schema.get_all_operations()}
    expected = {f"POST {path_template(r)}" for r in spec.profile_routes("core")}
    assert labels == expected
    close = schema["/file-{file_hash}/close"]["POST"]
    case = close.Case(path_parameters={"file_hash": "B0000000000000000000000Q"}, body={})
    assert case.formatted_path == "/file-B0000000000000000000000Q/close"
    # the links become transitions of schemathesis's state machine
    machine = schema.as_state_machine()
    assert any("fileClose" in name for name in dir(machine))

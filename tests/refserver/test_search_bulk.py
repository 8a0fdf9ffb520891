"""findProjects, describeDataObjects, describeProjects and resolveDataObjects over HTTP: behaviour, access
and each documented error path."""

from __future__ import annotations

import uuid

import pytest

MISSING_RECORD = "record-B0000000000000000000000Q"
MISSING_PROJECT = "project-B0000000000000000000000Q"


def new_record(client, project: str, **fields) -> str:
    return client.ok("/record/new", {"project": project, **fields})["id"]


def project_ids(client, body: dict, user: str = "alice") -> dict[str, dict]:
    answer = client.ok("/system/findProjects", body, user)
    assert answer["next"] is None
    return {r["id"]: r for r in answer["results"]}


def unique_project(client, user: str = "alice", **fields) -> tuple[str, str]:
    name = f"fp-{uuid.uuid4().hex}"
    return client.ok("/project/new", {"name": name, **fields}, user)["id"], name


# -- findProjects ------------------------------------------------------------------------------------------
def test_find_projects_result_shape_and_describe(client):
    pid, name = unique_project(client)
    found = project_ids(client, {"name": name})
    # as the platform answers (real traffic): `public` always, and whence the level comes
    assert found == {pid: {"id": pid, "level": "ADMINISTER", "permissionSources": ["user-alice"], "public": False}}
    [result] = client.ok("/system/findProjects", {"name": name, "describe": True})["results"]
    assert result["describe"]["name"] == name and result["describe"]["id"] == pid
    [result] = client.ok("/system/findProjects", {"name": name, "describe": {"fields": {"name": True}}})["results"]
    assert result["describe"] == {"id": pid, "name": name}


def test_find_projects_name_modes(client):
    pid, name = unique_project(client)
    assert pid in project_ids(client, {"name": {"glob": name[:10] + "*"}})
    assert pid in project_ids(client, {"name": {"regexp": "^" + name.upper() + "$", "flags": "i"}})
    assert project_ids(client, {"name": name[:10] + "*"}) == {}


def test_find_projects_tags_properties_created_billto_region(client):
    pid, name = unique_project(client, tags=["blue", "big"], properties={"team": "x"})
    base = {"name": name}
    assert pid in project_ids(client, {**base, "tags": {"$and": ["blue", "big"]}})
    assert project_ids(client, {**base, "tags": {"$and": ["blue", "small"]}}) == {}
    assert pid in project_ids(client, {**base, "properties": {"team": True}})
    assert project_ids(client, {**base, "properties": {"team": "y"}}) == {}
    desc = client.ok(f"/{pid}/describe", {})
    created = desc["created"]
    assert pid in project_ids(client, {**base, "created": {"before": created + 1000}})
    assert pid in project_ids(client, {**base, "created": {"after": created - 1000, "before": created + 1000}})
    assert project_ids(client, {**base, "created": {"before": created - 1000}}) == {}
    assert pid in project_ids(client, {**base, "billTo": desc["billTo"]})
    assert project_ids(client, {**base, "billTo": ["user-nobody"]}) == {}
    assert pid in project_ids(client, {**base, "region": desc["region"]})
    assert project_ids(client, {**base, "region": "azure:westus"}) == {}


def test_find_projects_flags_public_and_explicit(client):
    pid, name = unique_project(client, containsPHI=True)
    base = {"name": name}
    assert pid in project_ids(client, {**base, "containsPHI": True})
    assert project_ids(client, {**base, "containsPHI": False}) == {}
    assert pid in project_ids(client, {**base, "externalUploadRestricted": False})
    assert pid in project_ids(client, {**base, "explicitPermission": True})
    assert project_ids(client, {**base, "explicitPermission": False}) == {}
    assert project_ids(client, {**base, "public": True}) == {}
    assert pid in project_ids(client, {**base, "public": False})
    client.ok(f"/{pid}/invite", {"invitee": "PUBLIC", "level": "VIEW"})
    assert project_ids(client, {**base, "public": True})[pid]["public"] is True


def test_find_projects_level_and_access(client):
    pid, name = unique_project(client)
    assert project_ids(client, {"name": name, "level": "VIEW"}, user="bob") == {}
    client.ok(f"/{pid}/invite", {"invitee": "user-bob", "level": "VIEW"})
    assert project_ids(client, {"name": name, "level": "VIEW"}, user="bob") == {
        pid: {"id": pid, "level": "VIEW", "permissionSources": ["user-bob"], "public": False}}
    # Without `level` findProjects counts CONTRIBUTE and above (dxpy's documented default).
    assert project_ids(client, {"name": name}, user="bob") == {}
    client.ok(f"/{pid}/invite", {"invitee": "user-bob", "level": "CONTRIBUTE"})
    assert project_ids(client, {"name": name}, user="bob")[pid]["level"] == "CONTRIBUTE"
    assert project_ids(client, {"name": name, "level": "ADMINISTER"}, user="bob") == {}


@pytest.mark.parametrize("body", [
    {"name": 3}, {"name": {"glob": None}}, {"tags": 3}, {"properties": "x"}, {"level": "NONE"},
    {"describe": 1}, {"explicitPermission": "yes"}, {"public": 1}, {"created": {"after": "x"}},
    {"billTo": 5}, {"region": [5]}, {"containsPHI": "no"}, {"limit": 0}, {"starting": 12},
])
def test_find_projects_bad_input(client, body):
    client.expect_error("/system/findProjects", body, "InvalidInput", 422)


# -- describeDataObjects -----------------------------------------------------------------------------------
def test_describe_data_objects_in_input_order(client, project):
    a = new_record(client, project, name="a")
    b = new_record(client, project, name="b", properties={"k": "v"})
    answer = client.ok("/system/describeDataObjects", {"objects": [b, a, {"id": a, "project": project}]})
    assert [r["describe"]["id"] for r in answer["results"]] == [b, a, a]
    assert [r["describe"]["name"] for r in answer["results"]] == ["b", "a", "a"]
    assert all(r["describe"]["project"] == project for r in answer["results"])
    assert "properties" not in answer["results"][0]["describe"]


def test_describe_data_objects_empty(client):
    assert client.ok("/system/describeDataObjects", {"objects": []}) == {"results": []}


def test_describe_options_priority(client, project):
    rec = new_record(client, project, name="n", properties={"k": "v"})
    body = {
        "objects": [rec, {"id": rec, "describe": {"fields": {"name": True}}}, {"id": rec, "describe": True}],
        "classDescribeOptions": {"record": {"fields": {"properties": True}}, "*": {"fields": {"tags": True}}},
    }
    results = client.ok("/system/describeDataObjects", body)["results"]
    assert results[0]["describe"] == {"id": rec, "properties": {"k": "v"}}   # the class's options
    assert results[1]["describe"] == {"id": rec, "name": "n"}               # the item's own options
    assert results[2]["describe"]["name"] == "n" and "properties" not in results[2]["describe"]  # true = {}
    star = client.ok("/system/describeDataObjects",
                     {"objects": [rec], "classDescribeOptions": {"*": {"fields": {"tags": True}}}})
    assert star["results"][0]["describe"] == {"id": rec, "tags": []}


def test_describe_data_objects_per_item_errors(client, project):
    rec = new_record(client, project)
    other = client.new_project("other")
    answer = client.ok("/system/describeDataObjects",
                       {"objects": [MISSING_RECORD, rec, {"id": rec, "project": other}]})
    first, second, third = answer["results"]
    assert "describe" not in first and first["error"]["type"] == "ResourceNotFound"
    assert isinstance(first["error"]["message"], str)
    assert second["describe"]["id"] == rec
    assert third["error"]["type"] == "ResourceNotFound"


def test_describe_data_objects_hides_what_the_caller_cannot_see(client, project):
    rec = new_record(client, project)
    [result] = client.ok("/system/describeDataObjects", {"objects": [rec]}, user="bob")["results"]
    assert result["error"]["type"] == "ResourceNotFound"
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "VIEW"})
    [result] = client.ok("/system/describeDataObjects", {"objects": [rec]}, user="bob")["results"]
    assert result["describe"]["id"] == rec


@pytest.mark.parametrize("body", [
    {},
    {"objects": MISSING_RECORD},
    {"objects": [5]},
    {"objects": ["not-an-id"]},
    {"objects": [MISSING_PROJECT]},
    {"objects": [{"project": MISSING_PROJECT}]},
    {"objects": [{"id": MISSING_RECORD, "describe": "all"}]},
    {"objects": [{"id": MISSING_RECORD, "project": "nope"}]},
    {"objects": [MISSING_RECORD] * 1001},
    {"objects": [], "classDescribeOptions": []},
    {"objects": [], "classDescribeOptions": {"record": 5}},
    {"objects": [MISSING_RECORD], "classDescribeOptions": {"record": {"fields": "name"}}},
])
def test_describe_data_objects_bad_input(client, body):
    client.expect_error("/system/describeDataObjects", body, "InvalidInput", 422)


def test_describe_data_objects_accepts_1000(client, project):
    rec = new_record(client, project)
    answer = client.ok("/system/describeDataObjects", {"objects": [rec] * 1000})
    assert len(answer["results"]) == 1000 and answer["results"][-1]["describe"]["id"] == rec


# -- describeProjects --------------------------------------------------------------------------------------
def test_describe_projects(client, project):
    other, name = unique_project(client)
    answer = client.ok("/system/describeProjects", {"projects": [other, project, MISSING_PROJECT]})
    first, second, third = answer["results"]
    assert (first["describe"]["id"], first["describe"]["name"]) == (other, name)
    assert second["describe"]["id"] == project and second["describe"]["level"] == "ADMINISTER"
    assert third["error"]["type"] == "ResourceNotFound"
    narrow = client.ok("/system/describeProjects",
                       {"projects": [other, {"id": project, "describe": {"fields": {"level": True}}}],
                        "describe": {"fields": {"name": True}}})
    assert narrow["results"] == [{"describe": {"id": other, "name": name}},
                                 {"describe": {"id": project, "level": "ADMINISTER"}}]
    assert client.ok("/system/describeProjects", {"projects": []}) == {"results": []}


def test_describe_projects_access(client, project):
    [result] = client.ok("/system/describeProjects", {"projects": [project]}, user="bob")["results"]
    assert result["error"]["type"] == "ResourceNotFound"


@pytest.mark.parametrize("body", [
    {}, {"projects": MISSING_PROJECT}, {"projects": [MISSING_RECORD]},
    {"projects": [3]}, {"projects": [], "describe": 3}, {"projects": [MISSING_PROJECT] * 1001},
    {"projects": [MISSING_PROJECT], "describe": {"fields": []}},
])
def test_describe_projects_bad_input(client, body):
    client.expect_error("/system/describeProjects", body, "InvalidInput", 422)


# -- resolveDataObjects ------------------------------------------------------------------------------------
def test_resolve_data_objects(client, project):
    other = client.new_project("resolve-other")
    r0 = new_record(client, project, name="myrecord0")
    r1 = new_record(client, other, name="myrecord1")
    new_record(client, project, name="myrecord2")
    in_folder = new_record(client, project, name="deep", folder="/x/y", parents=True)
    twin_a, twin_b = new_record(client, project, name="twin"), new_record(client, project, name="twin")
    answer = client.ok("/system/resolveDataObjects", {"project": other, "objects": [
        {"name": "myrecord0", "project": project, "folder": "/"},
        {"name": "myrecord1"},
        {"name": "myrecord2"},                                   # not in the top-level project
        {"name": "deep", "project": project, "folder": "/x//y/"},
        {"name": "deep", "project": project},                     # folder "/" only: no recursion
        {"name": "twin", "project": project},
    ]})
    assert answer["results"] == [
        [{"project": project, "id": r0}],
        [{"project": other, "id": r1}],
        [],
        [{"project": project, "id": in_folder}],
        [],
        [{"project": project, "id": twin_a}, {"project": project, "id": twin_b}],
    ]


def test_resolve_data_objects_top_level_folder(client, project):
    rec = new_record(client, project, name="here", folder="/f", parents=True)
    answer = client.ok("/system/resolveDataObjects",
                       {"project": project, "folder": "/f", "objects": [{"name": "here"}]})
    assert answer["results"] == [[{"project": project, "id": rec}]]


def test_resolve_data_objects_in_an_unseen_project_is_resource_not_found(client, project):
    # as the platform answers a project that does not exist (real traffic: TestExists::test_false_mixed_path)
    new_record(client, project, name="secret")
    client.expect_error("/system/resolveDataObjects", {"project": project, "objects": [{"name": "secret"}]},
                        "ResourceNotFound", 404, user="bob")
    client.expect_error("/system/resolveDataObjects", {"objects": [{"name": "x", "project": MISSING_PROJECT}]},
                        "ResourceNotFound", 404)


@pytest.mark.parametrize("body", [
    {},
    {"objects": [{"name": "x"}]},                                        # no project anywhere
    {"project": MISSING_PROJECT, "objects": "x"},
    {"project": MISSING_PROJECT, "objects": ["x"]},
    {"project": MISSING_PROJECT, "objects": [{"name": 5}]},
    {"project": MISSING_PROJECT, "objects": [{"name": "x", "folder": "rel"}]},
    {"project": MISSING_RECORD, "objects": [{"name": "x"}]},
    {"project": MISSING_PROJECT, "folder": 5, "objects": []},
    {"project": MISSING_PROJECT, "objects": [{"name": "x"}] * 1001},
])
def test_resolve_data_objects_bad_input(client, body):
    client.expect_error("/system/resolveDataObjects", body, "InvalidInput", 422)


@pytest.mark.parametrize("route", ["/system/findProjects", "/system/describeDataObjects",
                                   "/system/describeProjects", "/system/resolveDataObjects"])
def test_not_a_hash_and_no_auth(client, route):
    answer = client.call(route, [1, 2])
    assert (answer.status, answer.error_type) == (422, "InvalidInput")
    answer = client.call(route, {}, user=None)
    assert (answer.status, answer.error_type) == (401, "InvalidAuthentication")


def test_find_data_objects_with_more_ids_than_sqlite_has_variables(client, project):
    # SQLite allows 250,000 parameters: a longer id list goes to SQL as one JSON value, not a 500.
    record = new_record(client, project)
    ids = [record] + [f"record-{i:024d}" for i in range(260_000)]
    answer = client.ok("/system/findDataObjects", {"scope": {"project": project}, "id": ids})
    assert [r["id"] for r in answer["results"]] == [record]

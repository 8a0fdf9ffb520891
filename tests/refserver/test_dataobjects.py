"""Methods shared by files and records over HTTP: describe, tags, types, rename, details, properties,
visibility, listProjects — results and every documented error path."""

from __future__ import annotations

import time

import pytest

from .dataobject_support import new_file, new_record, share, wait_closed

CLASSES = ["record", "file"]
MISSING = {"record": "record-B00000000000000000000000", "file": "file-B00000000000000000000000"}


def make(client, project: str, cls: str, **fields) -> str:
    return (new_record if cls == "record" else new_file)(client, project, **fields)


def close(client, object_id: str) -> None:
    client.ok(f"/{object_id}/close", {})
    if object_id.startswith("file-"):
        assert wait_closed(client, object_id)["state"] == "closed"


# -- describe --------------------------------------------------------------------------------------------
def test_describe_defaults_of_a_new_record(client, project):
    rid = new_record(client, project)
    desc = client.ok(f"/{rid}/describe", {})
    assert {"id", "project", "class", "types", "created", "modified", "state", "hidden", "links", "name",
            "folder", "tags"} <= set(desc)
    assert (desc["id"], desc["project"], desc["class"], desc["name"], desc["folder"]) == (rid, project, "record",
                                                                                          rid, "/")
    assert (desc["types"], desc["tags"], desc["links"], desc["state"], desc["hidden"]) == ([], [], [], "open", False)
    assert "properties" not in desc and "details" not in desc
    assert type(desc["created"]) is int and type(desc["modified"]) is int
    assert desc["created"] <= desc["modified"]


def test_describe_of_a_new_file_has_media_and_parts_but_no_size_yet(client, project):
    """Real traffic (counsyl/stor TestOpen): an open file's default describe has `parts` and no `size`."""
    desc = client.ok(f"/{new_file(client, project, media='text/plain')}/describe", {})
    assert desc["class"] == "file" and desc["media"] == "text/plain" and desc["parts"] == {}
    assert "size" not in desc


@pytest.mark.parametrize("cls", CLASSES)
def test_describe_fields_gives_exactly_id_and_the_fields(client, project, cls):
    oid = make(client, project, cls)
    assert set(client.ok(f"/{oid}/describe", {"fields": {"name": True, "tags": True}})) == {"id", "name", "tags"}
    assert set(client.ok(f"/{oid}/describe", {"fields": {"name": True, "state": False}})) == {"id", "name"}


def test_describe_fields_with_default_fields(client, project):
    rid = new_record(client, project)
    desc = client.ok(f"/{rid}/describe", {"fields": {"name": True, "properties": True}, "defaultFields": True})
    assert desc["properties"] == {} and "state" in desc and "details" not in desc


def test_describe_old_style_properties_and_details(client, project):
    rid = new_record(client, project, properties={"k": "v"}, details={"a": 1})
    desc = client.ok(f"/{rid}/describe", {"properties": True, "details": True})
    assert desc["properties"] == {"k": "v"} and desc["details"] == {"a": 1} and "state" in desc


@pytest.mark.parametrize("options", [{"fields": ["name"]}, {"fields": {"name": 1}}, {"defaultFields": "yes"},
                                     {"properties": "true"}, {"details": 0}, {"project": 5},
                                     {"project": "not-a-project"}])
def test_describe_bad_options_are_invalid_input(client, project, options):
    rid = new_record(client, project)
    client.expect_error(f"/{rid}/describe", options, "InvalidInput", 422)


def test_describe_not_found_paths(client, project):
    rid = new_record(client, project)
    other = client.new_project("other")
    client.expect_error(f"/{MISSING['record']}/describe", {}, "ResourceNotFound", 404)
    # a hint that holds no copy is only a hint: the copy the caller sees elsewhere is described
    assert client.ok(f"/{rid}/describe", {"project": other})["project"] == project
    assert client.ok(f"/{rid}/describe", {"project": "project-B00000000000000000000000"})["project"] == project
    client.expect_error(f"/{MISSING['record']}/describe", {"project": project}, "ResourceNotFound", 404)
    # bob has no access at all: the object's existence is not revealed
    client.expect_error(f"/{rid}/describe", {}, "ResourceNotFound", 404, user="bob")
    client.expect_error(f"/{rid}/describe", {"project": project}, "ResourceNotFound", 404, user="bob")


def test_describe_needs_authentication_and_a_hash(client, project):
    rid = new_record(client, project)
    client.expect_error(f"/{rid}/describe", {}, "InvalidAuthentication", 401, user=None)
    client.expect_error(f"/{rid}/describe", [], "InvalidInput", 422)


def test_describe_with_view_access(client, project):
    rid = new_record(client, project)
    share(client, project, "VIEW")
    assert client.ok(f"/{rid}/describe", {}, "bob")["project"] == project


# -- tags ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_tags_keep_insertion_order(client, project, cls):
    oid = make(client, project, cls)
    assert client.ok(f"/{oid}/addTags", {"project": project, "tags": ["foo", "othertag", "foo"]}) == {"id": oid}
    client.ok(f"/{oid}/addTags", {"project": project, "tags": ["othertag"]})  # present already: no error
    client.ok(f"/{oid}/removeTags", {"project": project, "tags": ["foo", "absent"]})
    assert client.ok(f"/{oid}/describe", {})["tags"] == ["othertag"]


@pytest.mark.parametrize("method", ["addTags", "removeTags"])
@pytest.mark.parametrize("body", [{"tags": ["a"]}, {"project": 1, "tags": ["a"]}, {"project": "P"},
                                  {"project": "P", "tags": "a"}, {"project": "P", "tags": [""]},
                                  {"project": "P", "tags": [1]}])
def test_tags_invalid_input(client, project, method, body):
    rid = new_record(client, project)
    body = {k: (project if v == "P" else v) for k, v in body.items()}
    client.expect_error(f"/{rid}/{method}", body, "InvalidInput", 422)


@pytest.mark.parametrize("method", ["addTags", "removeTags"])
def test_tags_not_found_and_permissions(client, project, method):
    rid = new_record(client, project)
    other = client.new_project("other")
    body = {"project": project, "tags": ["t"]}
    client.expect_error(f"/{MISSING['record']}/{method}", body, "ResourceNotFound", 404)
    client.expect_error(f"/{rid}/{method}", {"project": other, "tags": ["t"]}, "ResourceNotFound", 404)
    client.expect_error(f"/{rid}/{method}", body, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{rid}/{method}", body, "PermissionDenied", 401, user="bob")


@pytest.mark.parametrize("cls", CLASSES)
def test_per_copy_metadata_needs_contribute_once_closed(client, project, cls):
    oid = make(client, project, cls)
    share(client, project, "UPLOAD")
    client.ok(f"/{oid}/addTags", {"project": project, "tags": ["open"]}, "bob")
    close(client, oid)
    for method, extra in [("addTags", {"tags": ["x"]}), ("removeTags", {"tags": ["open"]}),
                          ("rename", {"name": "n"}), ("setProperties", {"properties": {"k": "v"}})]:
        client.expect_error(f"/{oid}/{method}", {"project": project, **extra}, "PermissionDenied", 401,
                            user="bob")
    share(client, project, "CONTRIBUTE")
    client.ok(f"/{oid}/addTags", {"project": project, "tags": ["closed"]}, "bob")
    client.ok(f"/{oid}/rename", {"project": project, "name": "renamed"}, "bob")
    desc = client.ok(f"/{oid}/describe", {})
    assert (desc["tags"], desc["name"]) == (["open", "closed"], "renamed")


# -- types -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_types_keep_order(client, project, cls):
    oid = make(client, project, cls)
    assert client.ok(f"/{oid}/addTypes", {"types": ["foo", "othertype", "a/b_c"]}) == {"id": oid}
    client.ok(f"/{oid}/removeTypes", {"types": ["foo"]})
    assert client.ok(f"/{oid}/describe", {})["types"] == ["othertype", "a/b_c"]


@pytest.mark.parametrize("method", ["addTypes", "removeTypes"])
@pytest.mark.parametrize("body", [{}, {"types": "foo"}, {"types": [1]}, {"types": [""]}, {"types": ["a b"]},
                                  {"types": ["é"]}])
def test_types_invalid_input(client, project, method, body):
    client.expect_error(f"/{new_record(client, project)}/{method}", body, "InvalidInput", 422)


@pytest.mark.parametrize("cls", CLASSES)
def test_types_errors_by_state_and_permission(client, project, cls):
    oid = make(client, project, cls)
    client.expect_error(f"/{MISSING[cls]}/addTypes", {"types": ["t"]}, "ResourceNotFound", 404)
    client.expect_error(f"/{oid}/addTypes", {"types": ["t"]}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{oid}/addTypes", {"types": ["t"]}, "PermissionDenied", 401, user="bob")
    close(client, oid)
    client.expect_error(f"/{oid}/addTypes", {"types": ["t"]}, "InvalidState", 422)
    client.expect_error(f"/{oid}/removeTypes", {"types": ["t"]}, "InvalidState", 422)


# -- rename ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [{"name": "n"}, {"project": "P"}, {"project": "P", "name": ""},
                                  {"project": "P", "name": 3}, {"project": "P", "name": "a\x01b"}])
def test_rename_invalid_input(client, project, body):
    body = {k: (project if v == "P" else v) for k, v in body.items()}
    client.expect_error(f"/{new_record(client, project)}/rename", body, "InvalidInput", 422)


def test_rename_is_per_project_and_not_found_paths(client, project):
    rid = new_record(client, project)
    assert client.ok(f"/{rid}/rename", {"project": project, "name": "ünïcode name"}) == {"id": rid}
    assert client.ok(f"/{rid}/describe", {})["name"] == "ünïcode name"
    client.expect_error(f"/{rid}/rename", {"project": client.new_project("o"), "name": "n"},
                        "ResourceNotFound", 404)
    client.expect_error(f"/{rid}/rename", {"project": project, "name": "n"}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{rid}/rename", {"project": project, "name": "n"}, "PermissionDenied", 401, user="bob")


# -- properties ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_set_properties_merges_and_null_deletes(client, project, cls):
    oid = make(client, project, cls, properties={"a": "1", "b": "2"})
    client.ok(f"/{oid}/setProperties", {"project": project, "properties": {"b": None, "c": "3", "zz": None}})
    client.ok(f"/{oid}/setProperties", {"project": project, "properties": {}})
    assert client.ok(f"/{oid}/describe", {"fields": {"properties": True}})["properties"] == {"a": "1", "c": "3"}


def test_property_size_limits_are_bytes(client, project):
    rid = new_record(client, project)
    ok = {"k" * 100: "v" * 700, "é" * 50: "é" * 350}  # exactly at the limits, counted in UTF-8 bytes
    client.ok(f"/{rid}/setProperties", {"project": project, "properties": ok})
    for props in ({"k" * 101: "v"}, {"é" * 51: "v"}, {"k": "v" * 701}, {"k": "é" * 351}):
        client.expect_error(f"/{rid}/setProperties", {"project": project, "properties": props},
                            "InvalidInput", 422)
    client.expect_error("/record/new", {"project": project, "properties": {"k": "v" * 701}}, "InvalidInput", 422)


@pytest.mark.parametrize("body", [{"properties": {"a": "b"}}, {"project": "P"}, {"project": "P", "properties": []},
                                  {"project": "P", "properties": {"a": 1}}, {"project": "P", "properties": {"a": True}}])
def test_set_properties_invalid_input(client, project, body):
    body = {k: (project if v == "P" else v) for k, v in body.items()}
    client.expect_error(f"/{new_record(client, project)}/setProperties", body, "InvalidInput", 422)


def test_set_properties_not_found_and_permission(client, project):
    rid = new_record(client, project)
    body = {"project": project, "properties": {"a": "b"}}
    client.expect_error(f"/{MISSING['record']}/setProperties", body, "ResourceNotFound", 404)
    client.expect_error(f"/{rid}/setProperties", body, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{rid}/setProperties", body, "PermissionDenied", 401, user="bob")


def test_null_property_value_is_refused_at_creation(client, project):
    client.expect_error("/record/new", {"project": project, "properties": {"a": None}}, "InvalidInput", 422)


# -- details and links -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_details_round_trip_and_links_are_deduplicated(client, project, cls):
    oid = make(client, project, cls)
    target = new_record(client, project)
    details = {"a": {"$dnanexus_link": target}, "b": [{"$dnanexus_link": target}, {"$dnanexus_link": oid}],
               "c": {"$dnanexus_link": {"project": project, "id": target}},
               "d": {"$dnanexus_link": {"job": "job-B00000000000000000000000", "field": "out"}}}
    assert client.ok(f"/{oid}/setDetails", details) == {"id": oid}
    assert client.ok(f"/{oid}/getDetails", {}) == details
    assert client.ok(f"/{oid}/describe", {})["links"] == [target, oid]
    client.ok(f"/{oid}/setDetails", [1, "two", {"$dnanexus_link": target}])
    assert client.ok(f"/{oid}/getDetails", {"project": project}) == [1, "two", {"$dnanexus_link": target}]
    assert client.ok(f"/{oid}/describe", {"details": True})["links"] == [target]


@pytest.mark.parametrize("details", ["text", 5, True, {"x": {"$dnanexus_link": 5}},
                                     {"x": {"$dnanexus_link": "record-B00000000000000000000000", "other": 1}},
                                     [{"$dnanexus_link": {"project": "project-B00000000000000000000000"}}]])
def test_set_details_invalid_input(client, project, details):
    client.expect_error(f"/{new_record(client, project)}/setDetails", details, "InvalidInput", 422)


def test_set_details_null_body_is_invalid_input(client, project):
    answer = client.call(f"/{new_record(client, project)}/setDetails", raw=b"null")
    assert (answer.status, answer.error_type) == (422, "InvalidInput"), answer


@pytest.mark.parametrize("cls", CLASSES)
def test_details_errors_by_state_and_permission(client, project, cls):
    oid = make(client, project, cls, details={"k": 1})
    client.expect_error(f"/{MISSING[cls]}/setDetails", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{MISSING[cls]}/getDetails", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{oid}/setDetails", {}, "ResourceNotFound", 404, user="bob")
    client.expect_error(f"/{oid}/getDetails", {}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    assert client.ok(f"/{oid}/getDetails", {}, "bob") == {"k": 1}
    client.expect_error(f"/{oid}/setDetails", {}, "PermissionDenied", 401, user="bob")
    close(client, oid)
    client.expect_error(f"/{oid}/setDetails", {"k": 2}, "InvalidState", 422)
    assert client.ok(f"/{oid}/getDetails", {}) == {"k": 1}


def test_get_details_project_hint(client, project):
    rid = new_record(client, project)
    client.expect_error(f"/{rid}/getDetails", {"project": client.new_project("o")}, "ResourceNotFound", 404)
    client.expect_error(f"/{rid}/getDetails", {"project": []}, "InvalidInput", 422)
    client.expect_error(f"/{rid}/getDetails", [], "InvalidInput", 422)


# -- visibility ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_set_visibility(client, project, cls):
    oid = make(client, project, cls)
    assert client.ok(f"/{oid}/setVisibility", {"hidden": True}) == {"id": oid}
    assert client.ok(f"/{oid}/describe", {})["hidden"] is True
    client.ok(f"/{oid}/setVisibility", {"hidden": False})
    assert client.ok(f"/{oid}/describe", {})["hidden"] is False


@pytest.mark.parametrize("body", [{}, {"hidden": "true"}, {"hidden": 1}, {"hidden": None}])
def test_set_visibility_invalid_input(client, project, body):
    client.expect_error(f"/{new_record(client, project)}/setVisibility", body, "InvalidInput", 422)


@pytest.mark.parametrize("cls", CLASSES)
def test_set_visibility_errors_by_state_and_permission(client, project, cls):
    oid = make(client, project, cls)
    client.expect_error(f"/{MISSING[cls]}/setVisibility", {"hidden": True}, "ResourceNotFound", 404)
    client.expect_error(f"/{oid}/setVisibility", {"hidden": True}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{oid}/setVisibility", {"hidden": True}, "PermissionDenied", 401, user="bob")
    close(client, oid)
    client.expect_error(f"/{oid}/setVisibility", {"hidden": True}, "InvalidState", 422)


# -- listProjects ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_list_projects(client, project, cls):
    oid = make(client, project, cls)
    assert client.ok(f"/{oid}/listProjects", {}) == {project: "ADMINISTER"}
    # an object the caller cannot see, or none at all, lists no container (the platform's 200 {}: real traffic)
    assert client.ok(f"/{oid}/listProjects", {}, "bob") == {}
    assert client.ok(f"/{MISSING[cls]}/listProjects", {}) == {}
    share(client, project, "CONTRIBUTE")
    assert client.ok(f"/{oid}/listProjects", {}, "bob") == {project: "CONTRIBUTE"}


def test_list_projects_after_clone_names_both(client, project):
    rid = new_record(client, project, close=True)
    dest = client.new_project("dest")
    client.ok(f"/{project}/clone", {"objects": [rid], "project": dest})
    assert client.ok(f"/{rid}/listProjects", {}) == {project: "ADMINISTER", dest: "ADMINISTER"}


# -- timestamps ------------------------------------------------------------------------------------------
def test_metadata_change_moves_modified_not_created(client, project):
    rid = new_record(client, project)
    before = client.ok(f"/{rid}/describe", {})
    time.sleep(0.01)
    client.ok(f"/{rid}/addTags", {"project": project, "tags": ["t"]})
    after = client.ok(f"/{rid}/describe", {})
    assert after["created"] == before["created"] and after["modified"] > before["modified"]

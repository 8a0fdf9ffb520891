"""Project and container routes over HTTP: /project/new, describe, update, destroy, tags, properties,
membership (invite, decreasePermissions, leave), and their documented error paths."""

from __future__ import annotations

import pytest

from conformance.refserver.containers import create_container

MISSING_PROJECT = "project-012301230123012301230123"


def share(client, project: str, user: str = "bob", level: str = "VIEW") -> None:
    client.ok(f"/{project}/invite", {"invitee": f"user-{user}", "level": level, "suppressEmailNotification": True})


# -- /project/new ------------------------------------------------------------------------------------------
def test_new_project_defaults(client):
    pid = client.ok("/project/new", {"name": "p1"})["id"]
    assert pid.startswith("project-")
    desc = client.ok(f"/{pid}/describe", {})
    assert desc["id"] == pid and desc["class"] == "project" and desc["name"] == "p1"
    assert desc["summary"] == "" and desc["description"] == "" and desc["tags"] == []
    assert desc["level"] == "ADMINISTER" and desc["region"] == "aws:us-east-1"
    assert desc["billTo"] == "user-alice"
    for flag in ("protected", "restricted", "downloadRestricted", "containsPHI", "databaseUIViewOnly",
                 "externalUploadRestricted", "previewViewerRestricted"):
        assert desc[flag] is False, flag
    assert desc["databaseResultsRestricted"] is None and desc["allowedExecutables"] is None
    assert isinstance(desc["created"], int) and isinstance(desc["modified"], int)
    assert "properties" not in desc and "permissions" not in desc and "folders" not in desc


def test_new_project_with_options(client):
    pid = client.ok("/project/new", {"name": "p2", "summary": "s", "description": "d", "protected": True,
                                      "tags": ["a", "b", "a"], "properties": {"k": "v"},
                                      "downloadRestricted": True, "unknownKey": 1})["id"]
    desc = client.ok(f"/{pid}/describe", {"properties": True})
    assert (desc["summary"], desc["description"], desc["protected"]) == ("s", "d", True)
    assert desc["tags"] == ["a", "b"] and desc["properties"] == {"k": "v"}
    assert desc["downloadRestricted"] is True and desc["previewViewerRestricted"] is True


@pytest.mark.parametrize("body", [
    {}, {"name": ""}, {"name": 5}, {"name": "a\x01b"}, {"name": "p", "summary": 1},
    {"name": "p", "protected": "yes"}, {"name": "p", "tags": "t"}, {"name": "p", "tags": [""]},
    {"name": "p", "properties": {"k": 1}}, {"name": "p", "properties": {"k" * 101: "v"}},
    {"name": "p", "region": "azure:mars"}, {"name": "p", "billTo": "user-bob"},
    {"name": "p", "databaseResultsRestricted": 0},
])
def test_new_project_invalid_input(client, body):
    client.expect_error("/project/new", body, "InvalidInput", 422)


def test_new_project_not_a_hash(client):
    client.expect_error("/project/new", ["name"], "InvalidInput", 422)


def test_new_project_needs_authentication(client):
    client.expect_error("/project/new", {"name": "p"}, "InvalidAuthentication", 401, user=None)


# -- describe ----------------------------------------------------------------------------------------------
def test_describe_fields_select_exactly(client, project):
    assert client.ok(f"/{project}/describe", {"fields": {"name": True, "level": True}}) == \
        {"id": project, "name": "test-project", "level": "ADMINISTER"}
    with_defaults = client.ok(f"/{project}/describe", {"fields": {"permissions": True}, "defaultFields": True})
    assert with_defaults["permissions"] == {"user-alice": "ADMINISTER"} and "name" in with_defaults


def test_describe_on_request_fields(client, project):
    client.ok(f"/{project}/newFolder", {"folder": "/x/y", "parents": True})
    desc = client.ok(f"/{project}/describe", {"fields": {"fileUploadParameters": True, "folders": True,
                                                          "properties": True}})
    params = desc["fileUploadParameters"]
    assert params["minimumPartSize"] == 5 * 1024 * 1024 and params["emptyLastPartAllowed"] is True
    assert set(params) == {"minimumPartSize", "maximumPartSize", "maximumNumParts", "maximumFileSize",
                           "emptyLastPartAllowed"}
    assert desc["folders"] == ["/", "/x", "/x/y"] and desc["properties"] == {}
    # The old-style option `dx download` sends.
    assert client.ok(f"/{project}/describe", {"folders": True})["folders"] == ["/", "/x", "/x/y"]


@pytest.mark.parametrize("body", [{"fields": []}, {"fields": {"name": 1}}, {"defaultFields": "yes"},
                                  {"properties": "yes"}])
def test_describe_invalid_input(client, project, body):
    client.expect_error(f"/{project}/describe", body, "InvalidInput", 422)


def test_describe_missing_or_invisible(client, project):
    client.expect_error(f"/{MISSING_PROJECT}/describe", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{project}/describe", {}, "ResourceNotFound", 404, user="bob")
    share(client, project)
    assert client.ok(f"/{project}/describe", {}, user="bob")["level"] == "VIEW"


# -- update ------------------------------------------------------------------------------------------------
def test_update_changes_fields_and_version(client, project):
    before = client.ok(f"/{project}/describe", {})
    assert client.ok(f"/{project}/update", {"name": "renamed", "summary": "sum", "protected": True}) == \
        {"id": project}
    after = client.ok(f"/{project}/describe", {})
    assert (after["name"], after["summary"], after["protected"]) == ("renamed", "sum", True)
    assert after["version"] == before["version"] + 1
    client.expect_error(f"/{project}/update", {"name": "x", "version": before["version"]}, "InvalidState", 422)
    client.ok(f"/{project}/update", {"name": "y", "version": after["version"]})


def test_update_download_and_preview_flags_are_tied(client, project):
    client.ok(f"/{project}/update", {"downloadRestricted": True})
    assert client.ok(f"/{project}/describe", {})["previewViewerRestricted"] is True
    client.expect_error(f"/{project}/update", {"downloadRestricted": False}, "InvalidInput", 422)
    client.ok(f"/{project}/update", {"downloadRestricted": False, "previewViewerRestricted": False})


@pytest.mark.parametrize("body", [{"name": ""}, {"name": 3}, {"protected": "no"}, {"version": 1.5},
                                  {"allowedExecutables": "app-x"}, {"databaseResultsRestricted": -1}])
def test_update_invalid_input(client, project, body):
    client.expect_error(f"/{project}/update", body, "InvalidInput", 422)


def test_update_permissions(client, project):
    share(client, project, level="CONTRIBUTE")
    client.ok(f"/{project}/update", {"description": "by bob"}, user="bob")
    client.expect_error(f"/{project}/update", {"restricted": True}, "PermissionDenied", 401, user="bob")
    client.ok(f"/{project}/decreasePermissions", {"user-bob": "UPLOAD"})
    client.expect_error(f"/{project}/update", {"name": "n"}, "PermissionDenied", 401, user="bob")
    client.expect_error(f"/{MISSING_PROJECT}/update", {"name": "n"}, "ResourceNotFound", 404)


# -- destroy -----------------------------------------------------------------------------------------------
def test_destroy(client):
    pid = client.new_project("doomed")
    rec = client.ok("/record/new", {"project": pid, "close": True})["id"]
    share(client, pid, level="CONTRIBUTE")
    client.expect_error(f"/{pid}/destroy", {}, "PermissionDenied", 401, user="bob")
    client.expect_error(f"/{pid}/destroy", {"terminateJobs": "yes"}, "InvalidInput", 422)
    assert client.ok(f"/{pid}/destroy", {"terminateJobs": True})["id"] == pid
    client.expect_error(f"/{pid}/describe", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{rec}/describe", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{pid}/destroy", {}, "ResourceNotFound", 404)


def test_destroy_keeps_objects_cloned_elsewhere(client, project):
    other = client.new_project("other")
    rec = client.ok("/record/new", {"project": project, "close": True, "name": "kept"})["id"]
    client.ok(f"/{project}/clone", {"objects": [rec], "project": other})
    client.ok(f"/{project}/destroy", {})
    assert client.ok(f"/{rec}/describe", {"project": other})["name"] == "kept"


# -- project tags and properties ---------------------------------------------------------------------------
def test_project_tags_and_properties(client, project):
    assert client.ok(f"/{project}/addTags", {"tags": ["a", "b", "a"]}) == {"id": project}
    client.ok(f"/{project}/removeTags", {"tags": ["a", "zzz"]})
    assert client.ok(f"/{project}/describe", {})["tags"] == ["b"]
    client.ok(f"/{project}/setProperties", {"properties": {"k1": "v1", "k2": "v2"}})
    client.ok(f"/{project}/setProperties", {"properties": {"k1": None, "k3": "v3"}})
    assert client.ok(f"/{project}/describe", {"fields": {"properties": True}})["properties"] == \
        {"k2": "v2", "k3": "v3"}


@pytest.mark.parametrize("method,body", [
    ("addTags", {}), ("addTags", {"tags": "a"}), ("addTags", {"tags": [""]}), ("removeTags", {"tags": [1]}),
    ("setProperties", {}), ("setProperties", {"properties": []}), ("setProperties", {"properties": {"k": 1}}),
    ("setProperties", {"properties": {"k": "v" * 701}}),
])
def test_project_metadata_invalid_input(client, project, method, body):
    client.expect_error(f"/{project}/{method}", body, "InvalidInput", 422)


def test_project_metadata_permissions(client, project):
    share(client, project, level="UPLOAD")
    client.expect_error(f"/{project}/addTags", {"tags": ["x"]}, "PermissionDenied", 401, user="bob")
    client.expect_error(f"/{project}/setProperties", {"properties": {"k": "v"}}, "PermissionDenied", 401,
                        user="bob")
    client.expect_error(f"/{MISSING_PROJECT}/addTags", {"tags": ["x"]}, "ResourceNotFound", 404)


# -- membership --------------------------------------------------------------------------------------------
def test_invite_grants_and_never_lowers(client, project):
    answer = client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "CONTRIBUTE"})
    assert answer == {"id": project, "state": "granted"}
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "VIEW"})
    perms = client.ok(f"/{project}/describe", {"fields": {"permissions": True}})["permissions"]
    assert perms == {"user-alice": "ADMINISTER", "user-bob": "CONTRIBUTE"}
    assert client.ok(f"/{project}/describe", {}, user="bob")["level"] == "CONTRIBUTE"


@pytest.mark.parametrize("body", [{}, {"invitee": "user-bob"}, {"level": "VIEW"}, {"invitee": 1, "level": "VIEW"},
                                  {"invitee": "user-bob", "level": "OWNER"},
                                  {"invitee": "PUBLIC", "level": "CONTRIBUTE"},
                                  {"invitee": "bob", "level": "VIEW"},
                                  {"invitee": "user-bob", "level": "VIEW", "suppressEmailNotification": 1}])
def test_invite_invalid_input(client, project, body):
    client.expect_error(f"/{project}/invite", body, "InvalidInput", 422)


def test_invite_errors(client, project):
    client.expect_error(f"/{project}/invite", {"invitee": "user-nobody", "level": "VIEW"}, "ResourceNotFound", 404)
    client.expect_error(f"/{MISSING_PROJECT}/invite", {"invitee": "user-bob", "level": "VIEW"},
                        "ResourceNotFound", 404)
    share(client, project, level="CONTRIBUTE")
    client.expect_error(f"/{project}/invite", {"invitee": "user-bob", "level": "ADMINISTER"},
                        "PermissionDenied", 401, user="bob")


def test_invite_public(client, project):
    client.ok(f"/{project}/invite", {"invitee": "PUBLIC", "level": "VIEW"})
    perms = client.ok(f"/{project}/describe", {"fields": {"permissions": True}})["permissions"]
    assert perms["PUBLIC"] == "VIEW"


def test_decrease_permissions(client, project):
    share(client, project, level="ADMINISTER")
    assert client.ok(f"/{project}/decreasePermissions", {"user-bob": "VIEW"}) == {"id": project}
    assert client.ok(f"/{project}/describe", {}, user="bob")["level"] == "VIEW"
    # A "decrease" to a higher level changes nothing.
    client.ok(f"/{project}/decreasePermissions", {"user-bob": "CONTRIBUTE"})
    assert client.ok(f"/{project}/describe", {}, user="bob")["level"] == "VIEW"
    client.ok(f"/{project}/decreasePermissions", {"user-bob": None})
    client.expect_error(f"/{project}/describe", {}, "ResourceNotFound", 404, user="bob")


def test_decrease_permissions_errors(client, project):
    share(client, project, level="UPLOAD")
    # Keys that name no member are unknown input keys: ignored.
    client.ok(f"/{project}/decreasePermissions", {"bob": "VIEW", "user-bob": "NONE"})
    client.expect_error(f"/{project}/describe", {}, "ResourceNotFound", 404, user="bob")
    client.expect_error(f"/{project}/decreasePermissions", {"user-bob": "OWNER"}, "InvalidInput", 422)
    client.expect_error(f"/{project}/decreasePermissions", {"user-bob": 3}, "InvalidInput", 422)
    client.expect_error(f"/{project}/decreasePermissions", {"user-alice": None}, "InvalidState", 422)
    client.expect_error(f"/{MISSING_PROJECT}/decreasePermissions", {"user-bob": None}, "ResourceNotFound", 404)
    share(client, project, level="CONTRIBUTE")
    client.expect_error(f"/{project}/decreasePermissions", {"user-alice": "VIEW"}, "PermissionDenied", 401,
                        user="bob")
    # Lowering one's own level needs no ADMINISTER.
    client.ok(f"/{project}/decreasePermissions", {"user-bob": "VIEW"}, user="bob")
    assert client.ok(f"/{project}/describe", {}, user="bob")["level"] == "VIEW"


def test_leave(client, project):
    share(client, project, level="UPLOAD")
    assert client.ok(f"/{project}/leave", {}, user="bob") == {"id": project}
    client.expect_error(f"/{project}/describe", {}, "ResourceNotFound", 404, user="bob")
    client.expect_error(f"/{project}/leave", {}, "ResourceNotFound", 404, user="bob")
    client.expect_error(f"/{project}/leave", {}, "InvalidState", 422)  # the last ADMINISTER stays


# -- plain containers --------------------------------------------------------------------------------------
@pytest.fixture()
def container(refserver) -> str:
    return create_container(refserver.app.db, "user-alice", name="workspace")


def test_container_describe_and_destroy(client, container):
    desc = client.ok(f"/{container}/describe", {})
    assert desc["id"] == container and desc["class"] == "container" and desc["level"] == "ADMINISTER"
    assert "summary" not in desc and "protected" not in desc
    client.expect_error(f"/{container}/describe", {}, "ResourceNotFound", 404, user="bob")
    client.expect_error(f"/{container}/destroy", {}, "ResourceNotFound", 404, user="bob")
    assert client.ok(f"/{container}/destroy", {}) == {"id": container}
    client.expect_error(f"/{container}/describe", {}, "ResourceNotFound", 404)


def test_project_only_routes_are_not_container_routes(client, container):
    client.expect_error(f"/{container}/invite", {"invitee": "user-bob", "level": "VIEW"}, "ResourceNotFound", 404)

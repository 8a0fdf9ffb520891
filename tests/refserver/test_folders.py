"""Folder routes over HTTP, for projects and plain containers: listFolder, newFolder, removeFolder,
renameFolder, move, removeObjects, clone, and their documented error paths."""

from __future__ import annotations

import pytest

from conformance.refserver.containers import create_container

MISSING_PROJECT = "project-012301230123012301230123"
MISSING_RECORD = "record-012301230123012301230123"


def record(client, project: str, folder: str = "/", **extra) -> str:
    body = {"project": project, "folder": folder, "parents": True, "close": True, **extra}
    return client.ok("/record/new", body)["id"]


def listing(client, project: str, folder: str = "/", **extra) -> dict:
    return client.ok(f"/{project}/listFolder", {"folder": folder, **extra})


def share(client, project: str, level: str) -> None:
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": level})


@pytest.fixture(params=["project", "container"])
def box(request, client, refserver) -> str:
    """A project or a plain container of alice: the folder routes behave the same on both."""
    if request.param == "project":
        return client.new_project("folders")
    return create_container(refserver.app.db, "user-alice")


# -- listFolder --------------------------------------------------------------------------------------------
def test_list_empty(client, box):
    assert listing(client, box) == {"objects": [], "folders": []}


def test_list_objects_folders_and_options(client, box):
    client.ok(f"/{box}/newFolder", {"folder": "/a/b/c/d", "parents": True})
    client.ok(f"/{box}/newFolder", {"folder": "/a/d"})
    rec = record(client, box, name="r")
    hidden = record(client, box, hidden=True)
    assert listing(client, box) == {"folders": ["/a"], "objects": [{"id": rec}]}
    assert listing(client, box, "/a")["folders"] == ["/a/b", "/a/d"]
    assert listing(client, box, "/a/b/c/d")["folders"] == []
    assert [o["id"] for o in listing(client, box, includeHidden=True)["objects"]] == [rec, hidden]
    assert listing(client, box, only="folders") == {"folders": ["/a"]}
    assert listing(client, box, only="objects") == {"objects": [{"id": rec}]}
    described = listing(client, box, describe=True)["objects"][0]
    assert described["id"] == rec and described["describe"]["name"] == "r"
    assert described["describe"]["project"] == box
    narrow = listing(client, box, describe={"fields": {"name": True}})["objects"][0]["describe"]
    assert narrow == {"id": rec, "name": "r"}
    assert listing(client, box, "/a", hasSubfolderFlags=True)["folders"] == [["/a/b", True], ["/a/d", False]]
    # Paths are normalised: runs of "/" collapse and a trailing "/" is ignored.
    assert listing(client, box, "//a///b/")["folders"] == ["/a/b/c"]


@pytest.mark.parametrize("body", [{"folder": 1}, {"folder": "a"}, {"folder": "/a/../b"}, {"only": "some"},
                                  {"describe": "yes"}, {"includeHidden": 1}, {"hasSubfolderFlags": "no"}])
def test_list_invalid_input(client, box, body):
    client.expect_error(f"/{box}/listFolder", body, "InvalidInput", 422)


def test_list_missing(client, box):
    client.expect_error(f"/{box}/listFolder", {"folder": "/nope"}, "ResourceNotFound", 404)
    client.expect_error(f"/{MISSING_PROJECT}/listFolder", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{box}/listFolder", {}, "ResourceNotFound", 404, user="bob")


# -- newFolder ---------------------------------------------------------------------------------------------
def test_new_folder(client, box):
    assert client.ok(f"/{box}/newFolder", {"folder": "/x"}) == {"id": box}
    client.expect_error(f"/{box}/newFolder", {"folder": "/x"}, "InvalidState", 422)
    client.ok(f"/{box}/newFolder", {"folder": "/x", "parents": True})
    client.ok(f"/{box}/newFolder", {"folder": "/x/y/", "project": "ignored-unknown-key"})
    assert listing(client, box, "/x")["folders"] == ["/x/y"]


@pytest.mark.parametrize("body", [{}, {"folder": ""}, {"folder": "x"}, {"folder": 3}, {"folder": "/a/./b"},
                                  {"folder": "/a\x01"}, {"folder": "/x", "parents": "yes"},
                                  {"folder": "/" + "n" * 2049}])
def test_new_folder_invalid_input(client, box, body):
    client.expect_error(f"/{box}/newFolder", body, "InvalidInput", 422)


def test_new_folder_missing_parent_and_permissions(client):
    project = client.new_project()
    client.expect_error(f"/{project}/newFolder", {"folder": "/p/q"}, "ResourceNotFound", 404)
    client.expect_error(f"/{MISSING_PROJECT}/newFolder", {"folder": "/p"}, "ResourceNotFound", 404)
    client.expect_error(f"/{project}/newFolder", {"folder": "/p"}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{project}/newFolder", {"folder": "/p"}, "PermissionDenied", 401, user="bob")
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "UPLOAD"})
    client.ok(f"/{project}/newFolder", {"folder": "/p"}, user="bob")


# -- removeFolder ------------------------------------------------------------------------------------------
def test_remove_folder(client, box):
    client.ok(f"/{box}/newFolder", {"folder": "/empty"})
    assert client.ok(f"/{box}/removeFolder", {"folder": "/empty"}) == {"id": box}
    rec = record(client, box, "/a/b/c")
    client.expect_error(f"/{box}/removeFolder", {"folder": "/a"}, "InvalidState", 422)
    client.expect_error(f"/{box}/removeFolder", {"folder": "/a/b/c"}, "InvalidState", 422)
    assert client.ok(f"/{box}/removeFolder", {"folder": "/a//b////c/", "recurse": True, "partial": True}) == \
        {"id": box, "completed": True}
    client.expect_error(f"/{rec}/describe", {"project": box}, "ResourceNotFound", 404)
    client.ok(f"/{box}/removeFolder", {"folder": "/a", "recurse": True})
    assert listing(client, box) == {"objects": [], "folders": []}


def test_remove_folder_missing(client, box):
    client.expect_error(f"/{box}/removeFolder", {"folder": "/nope"}, "ResourceNotFound", 404)
    assert client.ok(f"/{box}/removeFolder", {"folder": "/nope", "force": True, "partial": True}) == \
        {"id": box, "completed": True}
    client.expect_error(f"/{MISSING_PROJECT}/removeFolder", {"folder": "/a"}, "ResourceNotFound", 404)


@pytest.mark.parametrize("body", [{}, {"folder": "/"}, {"folder": 1}, {"folder": "/a", "recurse": "y"},
                                  {"folder": "/a", "force": 0}, {"folder": "/a", "partial": "n"}])
def test_remove_folder_invalid_input(client, box, body):
    client.expect_error(f"/{box}/removeFolder", body, "InvalidInput", 422)


def test_remove_folder_permissions(client):
    project = client.new_project()
    client.ok(f"/{project}/newFolder", {"folder": "/a"})
    share(client, project, "UPLOAD")
    client.expect_error(f"/{project}/removeFolder", {"folder": "/a"}, "PermissionDenied", 401, user="bob")
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "CONTRIBUTE"})
    client.ok(f"/{project}/update", {"protected": True})
    client.expect_error(f"/{project}/removeFolder", {"folder": "/a"}, "PermissionDenied", 401, user="bob")
    client.ok(f"/{project}/removeFolder", {"folder": "/a"})


# -- renameFolder ------------------------------------------------------------------------------------------
def test_rename_folder(client, box):
    rec = record(client, box, "/a/b/c")
    assert client.ok(f"/{box}/renameFolder", {"folder": "/a/b", "name": "z"}) == {"id": box}
    assert listing(client, box, "/a")["folders"] == ["/a/z"]
    assert listing(client, box, "/a/z/c")["objects"] == [{"id": rec}]
    assert client.ok(f"/{rec}/describe", {"project": box})["folder"] == "/a/z/c"
    client.expect_error(f"/{box}/renameFolder", {"folder": "/a/b", "name": "q"}, "ResourceNotFound", 404)
    client.ok(f"/{box}/newFolder", {"folder": "/a/taken"})
    client.expect_error(f"/{box}/renameFolder", {"folder": "/a/z", "name": "taken"}, "InvalidState", 422)


@pytest.mark.parametrize("body", [{"name": "x"}, {"folder": "/a"}, {"folder": "/", "name": "x"},
                                  {"folder": "/a", "name": "x/y"}, {"folder": "/a", "name": ""},
                                  {"folder": "/a", "name": ".."}, {"folder": "/a", "name": 7}])
def test_rename_folder_invalid_input(client, box, body):
    client.expect_error(f"/{box}/renameFolder", body, "InvalidInput", 422)


def test_rename_folder_permissions(client):
    project = client.new_project()
    client.ok(f"/{project}/newFolder", {"folder": "/a"})
    client.expect_error(f"/{project}/renameFolder", {"folder": "/a", "name": "b"}, "ResourceNotFound", 404,
                        user="bob")
    share(client, project, "UPLOAD")
    client.expect_error(f"/{project}/renameFolder", {"folder": "/a", "name": "b"}, "PermissionDenied", 401,
                        user="bob")


# -- move --------------------------------------------------------------------------------------------------
def test_move_keeps_basename_and_explicit_items(client, box):
    inner = record(client, box, "/a/b/c/d")
    loose = record(client, box, "/a/b")
    client.ok(f"/{box}/newFolder", {"folder": "/dest"})
    answer = client.ok(f"/{box}/move", {"folders": ["/a/b/c/d", "/a/b"], "objects": [inner],
                                        "destination": "/dest", "targetFileRelocation": False})
    assert answer == {"id": box}
    assert listing(client, box, "/dest") == {"folders": ["/dest/b", "/dest/d"], "objects": [{"id": inner}]}
    assert listing(client, box, "/dest/b")["objects"] == [{"id": loose}]
    assert listing(client, box, "/a")["folders"] == []


def test_move_folder_to_parent(client, box):
    rec = record(client, box, "/a/b/c/d")
    client.ok(f"/{box}/move", {"folders": ["/a/b/c/d"], "destination": "/a"})
    assert listing(client, box, "/a")["folders"] == ["/a/b", "/a/d"]
    assert client.ok(f"/{rec}/describe", {"project": box})["folder"] == "/a/d"


def test_move_errors(client, box):
    rec = record(client, box, "/a/b")
    client.expect_error(f"/{box}/move", {"objects": [rec], "destination": "/nope"}, "ResourceNotFound", 404)
    client.expect_error(f"/{box}/move", {"objects": [MISSING_RECORD], "destination": "/"}, "ResourceNotFound", 404)
    client.expect_error(f"/{box}/move", {"folders": ["/zz"], "destination": "/"}, "ResourceNotFound", 404)
    client.expect_error(f"/{box}/move", {"folders": ["/a"], "destination": "/a/b"}, "InvalidInput", 422)
    client.ok(f"/{box}/newFolder", {"folder": "/b"})
    client.expect_error(f"/{box}/move", {"folders": ["/a/b"], "destination": "/"}, "InvalidState", 422)
    client.expect_error(f"/{MISSING_PROJECT}/move", {"destination": "/"}, "ResourceNotFound", 404)


@pytest.mark.parametrize("body", [{}, {"destination": 1}, {"destination": "/", "objects": "x"},
                                  {"destination": "/", "objects": ["project-012301230123012301230123"]},
                                  {"destination": "/", "folders": [1]}, {"destination": "/", "folders": ["/"]}])
def test_move_invalid_input(client, box, body):
    client.expect_error(f"/{box}/move", body, "InvalidInput", 422)


def test_move_permissions(client):
    project = client.new_project()
    rec = record(client, project)
    share(client, project, "UPLOAD")
    client.expect_error(f"/{project}/move", {"objects": [rec], "destination": "/"}, "PermissionDenied", 401,
                        user="bob")


# -- removeObjects -----------------------------------------------------------------------------------------
def test_remove_objects(client, box):
    keep, gone = record(client, box), record(client, box)
    assert client.ok(f"/{box}/removeObjects", {"objects": [gone]}) == {"id": box}
    assert listing(client, box)["objects"] == [{"id": keep}]
    client.expect_error(f"/{gone}/describe", {"project": box}, "ResourceNotFound", 404)
    client.expect_error(f"/{box}/removeObjects", {"objects": [gone]}, "ResourceNotFound", 404)
    client.ok(f"/{box}/removeObjects", {"objects": [gone], "force": True})


def test_remove_objects_takes_unreachable_hidden_links(client, box):
    orphan = client.ok("/record/new", {"project": box, "hidden": True, "close": True})["id"]
    shared = client.ok("/record/new", {"project": box, "hidden": True, "close": True})["id"]
    mine = client.ok("/record/new", {"project": box, "hidden": True, "close": True})["id"]
    top = record(client, box, details={"a": {"$dnanexus_link": mine}, "b": {"$dnanexus_link": shared}})
    record(client, box, details={"$dnanexus_link": shared})
    client.ok(f"/{box}/removeObjects", {"objects": [top]})
    left = {o["id"] for o in listing(client, box, includeHidden=True)["objects"]}
    assert mine not in left  # reachable only through the removed object
    assert shared in left    # still linked from a visible object
    assert orphan in left    # never linked from the removed object


@pytest.mark.parametrize("body", [{}, {"objects": "x"}, {"objects": [1]}, {"objects": ["foo"]},
                                  {"objects": [], "force": "yes"}])
def test_remove_objects_invalid_input(client, box, body):
    client.expect_error(f"/{box}/removeObjects", body, "InvalidInput", 422)


def test_remove_objects_permissions(client):
    project = client.new_project()
    rec = record(client, project)
    client.expect_error(f"/{project}/removeObjects", {"objects": [rec]}, "ResourceNotFound", 404, user="bob")
    share(client, project, "UPLOAD")
    client.expect_error(f"/{project}/removeObjects", {"objects": [rec]}, "PermissionDenied", 401, user="bob")
    client.ok(f"/{project}/update", {"protected": True})
    client.ok(f"/{project}/invite", {"invitee": "user-bob", "level": "CONTRIBUTE"})
    client.expect_error(f"/{project}/removeObjects", {"objects": [rec]}, "PermissionDenied", 401, user="bob")
    client.expect_error(f"/{MISSING_PROJECT}/removeObjects", {"objects": [rec]}, "ResourceNotFound", 404)


# -- clone -------------------------------------------------------------------------------------------------
def test_clone_objects_keep_id_and_metadata(client, box):
    target = client.new_project("target")
    rec = record(client, box, "/src", name="n", tags=["t"], properties={"k": "v"})
    answer = client.ok(f"/{box}/clone", {"objects": [rec], "project": target, "destination": "/in",
                                         "parents": True})
    assert answer == {"id": box, "project": target, "exists": []}
    desc = client.ok(f"/{rec}/describe", {"project": target, "properties": True})
    assert (desc["id"], desc["name"], desc["tags"], desc["properties"], desc["folder"]) == \
        (rec, "n", ["t"], {"k": "v"}, "/in")
    source = client.ok(f"/{rec}/describe", {"project": box})
    assert desc["created"] == source["created"]
    client.ok(f"/{rec}/rename", {"project": target, "name": "renamed"})
    assert client.ok(f"/{rec}/describe", {"project": box})["name"] == "n"  # per-project metadata
    again = client.ok(f"/{box}/clone", {"objects": [rec], "project": target})
    assert again["exists"] == [rec]
    assert client.ok(f"/{rec}/describe", {"project": target})["folder"] == "/in"


def test_clone_folders(client, box):
    target = client.new_project("target")
    deep = record(client, box, "/a/b/c/d")
    mid = record(client, box, "/a/b")
    client.ok(f"/{box}/clone", {"folders": ["/a/b/c/d"], "project": target})
    assert listing(client, target) == {"folders": ["/d"], "objects": []}
    assert listing(client, target, "/d")["objects"] == [{"id": deep}]
    other = client.new_project("target2")
    client.ok(f"/{box}/clone", {"folders": ["/"], "project": other})
    assert listing(client, other)["folders"] == ["/a"]
    assert listing(client, other, "/a/b")["objects"] == [{"id": mid}]


def test_clone_follows_hidden_links(client, box):
    target = client.new_project("target")
    hidden = client.ok("/record/new", {"project": box, "hidden": True, "close": True, "folder": "/f",
                                       "parents": True})["id"]
    unlinked = client.ok("/record/new", {"project": box, "hidden": True, "close": True, "folder": "/f"})["id"]
    top = record(client, box, "/f", details={"$dnanexus_link": hidden})
    client.ok(f"/{box}/clone", {"folders": ["/f"], "project": target})
    ids = {o["id"] for o in listing(client, target, "/f", includeHidden=True)["objects"]}
    assert ids == {top, hidden} and unlinked not in ids


def test_clone_errors(client, box):
    target = client.new_project("target")
    open_rec = client.ok("/record/new", {"project": box})["id"]
    closed = record(client, box)
    client.expect_error(f"/{box}/clone", {"objects": [open_rec], "project": target}, "InvalidState", 422)
    client.expect_error(f"/{box}/clone", {"objects": [closed], "project": target, "destination": "/no"},
                        "ResourceNotFound", 404)
    client.expect_error(f"/{box}/clone", {"objects": [MISSING_RECORD], "project": target},
                        "ResourceNotFound", 404)
    client.expect_error(f"/{box}/clone", {"folders": ["/none"], "project": target}, "ResourceNotFound", 404)
    client.expect_error(f"/{box}/clone", {"objects": [closed], "project": MISSING_PROJECT},
                        "ResourceNotFound", 404)
    client.expect_error(f"/{MISSING_PROJECT}/clone", {"objects": [closed], "project": target},
                        "ResourceNotFound", 404)


@pytest.mark.parametrize("body", [{}, {"project": 5}, {"project": "record-012301230123012301230123"},
                                  {"project": MISSING_PROJECT, "objects": "x"},
                                  {"project": MISSING_PROJECT, "folders": [3]},
                                  {"project": MISSING_PROJECT, "destination": "rel"},
                                  {"project": MISSING_PROJECT, "parents": "y"}])
def test_clone_invalid_input(client, box, body):
    client.expect_error(f"/{box}/clone", body, "InvalidInput", 422)


def test_clone_permissions(client):
    source, target = client.new_project("src"), client.new_project("dst", user="bob")
    rec = record(client, source)
    client.expect_error(f"/{source}/clone", {"objects": [rec], "project": target}, "ResourceNotFound", 404)
    client.ok(f"/{target}/invite", {"invitee": "user-alice", "level": "VIEW"}, user="bob")
    client.expect_error(f"/{source}/clone", {"objects": [rec], "project": target}, "PermissionDenied", 401)
    client.ok(f"/{target}/invite", {"invitee": "user-alice", "level": "UPLOAD"}, user="bob")
    client.ok(f"/{source}/update", {"restricted": True})
    client.expect_error(f"/{source}/clone", {"objects": [rec], "project": target}, "PermissionDenied", 401)
    client.ok(f"/{source}/update", {"restricted": False})
    assert client.ok(f"/{source}/clone", {"objects": [rec], "project": target})["exists"] == []

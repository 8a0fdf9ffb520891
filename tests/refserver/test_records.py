"""Records over HTTP: /record/new (creation fields, initializeFrom, close, nonces) and /record-xxxx/close —
results, the lifecycle, and every documented error path."""

from __future__ import annotations

import pytest

from .dataobject_support import new_record, share

MISSING = "record-B00000000000000000000000"


def test_new_record_defaults(client, project):
    rid = new_record(client, project)
    desc = client.ok(f"/{rid}/describe", {"properties": True, "details": True})
    assert rid.startswith("record-") and set(rid[7:]) <= set("0123456789BFGJKPQVXYZbfgjkpqvxyz")
    assert (desc["name"], desc["folder"], desc["state"], desc["hidden"]) == (rid, "/", "open", False)
    assert (desc["tags"], desc["types"], desc["properties"], desc["details"], desc["links"]) == ([], [], {}, {}, [])
    assert client.ok(f"/{rid}/getDetails", {}) == {}
    assert desc["created"] % 1000 == 0  # creation times of data objects are whole seconds on the platform


def test_new_record_with_parents_creates_the_folder(client, project):
    rid = new_record(client, project, folder="/a//b/", parents=True)
    assert client.ok(f"/{rid}/describe", {})["folder"] == "/a/b"
    assert client.ok(f"/{project}/listFolder", {"folder": "/a"})["folders"] == ["/a/b"]
    client.expect_error("/record/new", {"project": project, "folder": "/c/d"}, "ResourceNotFound", 404)


def test_new_record_closed_at_once(client, project):
    rid = new_record(client, project, close=True, details={"x": 1})
    assert client.ok(f"/{rid}/describe", {})["state"] == "closed"
    client.expect_error(f"/{rid}/setDetails", {"x": 2}, "InvalidState", 422)


def test_initialize_from_copies_metadata_except_given_fields(client, project):
    source = new_record(client, project, name="src", tags=["a", "b"], types=["Old"], properties={"k": "v"},
                        details={"d": [1, 2]}, hidden=True)
    rid = new_record(client, project, initializeFrom={"id": source, "project": project}, types=["New"])
    desc = client.ok(f"/{rid}/describe", {"properties": True, "details": True})
    assert (desc["name"], desc["tags"], desc["types"]) == ("src", ["a", "b"], ["New"])
    assert (desc["properties"], desc["details"], desc["hidden"]) == ({"k": "v"}, {"d": [1, 2]}, True)
    assert rid != source and desc["state"] == "open"


@pytest.mark.parametrize("spec", ["record-x", {"project": "P"}, {"id": "R"}, {"id": 5, "project": "P"},
                                  {"id": "file-B00000000000000000000000", "project": "P"}])
def test_initialize_from_invalid_input(client, project, spec):
    source = new_record(client, project)
    if isinstance(spec, dict):
        spec = {k: {"P": project, "R": source}.get(v, v) for k, v in spec.items()}
    client.expect_error("/record/new", {"project": project, "initializeFrom": spec}, "InvalidInput", 422)


def test_initialize_from_an_unreachable_record(client, project):
    source = new_record(client, project)
    client.expect_error("/record/new", {"project": project, "initializeFrom": {"id": MISSING, "project": project}},
                        "ResourceNotFound", 404)
    bobs = client.new_project("bob's", user="bob")
    client.expect_error("/record/new", {"project": bobs, "initializeFrom": {"id": source, "project": project}},
                        "ResourceNotFound", 404, user="bob")


@pytest.mark.parametrize("body", [{}, {"project": ["P"]}, {"project": "P", "close": "true"},
                                  {"project": "P", "details": 5}, {"project": "P", "tags": [""]},
                                  {"project": "P", "hidden": "no"}, {"project": "P", "name": "a\nb"},
                                  {"project": "P", "details": {"l": {"$dnanexus_link": "x", "y": 1}}}])
def test_new_record_invalid_input(client, project, body):
    body = {k: (project if v == "P" else v) for k, v in body.items()}
    client.expect_error("/record/new", body, "InvalidInput", 422)


def test_new_record_permissions(client, project):
    client.expect_error("/record/new", {"project": project}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error("/record/new", {"project": project}, "PermissionDenied", 401, user="bob")
    share(client, project, "UPLOAD")
    assert new_record(client, project, user="bob").startswith("record-")


def test_new_record_nonce(client, project):
    body = {"project": project, "details": {"n": 1}, "nonce": "record-nonce-1"}
    first = client.ok("/record/new", body)
    assert client.ok("/record/new", body) == first
    client.expect_error("/record/new", {**body, "details": {"n": 2}}, "InvalidInput", 422)
    # the same nonce from another user is a different request
    share(client, project, "UPLOAD")
    assert client.ok("/record/new", body, "bob")["id"] != first["id"]


def test_record_close_and_what_stays_editable(client, project):
    rid = new_record(client, project, details={"k": 1})
    assert client.ok(f"/{rid}/close", {}) == {"id": rid}
    assert client.ok(f"/{rid}/describe", {})["state"] == "closed"  # no closing state for records
    assert client.ok(f"/{rid}/close", {}) == {"id": rid}  # closing a closed record succeeds
    for method, body in [("setDetails", {"k": 2}), ("setVisibility", {"hidden": True}),
                         ("addTypes", {"types": ["T"]}), ("removeTypes", {"types": ["T"]})]:
        client.expect_error(f"/{rid}/{method}", body, "InvalidState", 422)
    client.ok(f"/{rid}/rename", {"project": project, "name": "still"})
    client.ok(f"/{rid}/addTags", {"project": project, "tags": ["t"]})
    client.ok(f"/{rid}/setProperties", {"project": project, "properties": {"p": "q"}})
    assert client.ok(f"/{rid}/getDetails", {}) == {"k": 1}


def test_record_close_errors(client, project):
    rid = new_record(client, project)
    client.expect_error(f"/{MISSING}/close", {}, "ResourceNotFound", 404)
    client.expect_error(f"/{rid}/close", {}, "ResourceNotFound", 404, user="bob")
    share(client, project, "VIEW")
    client.expect_error(f"/{rid}/close", {}, "PermissionDenied", 401, user="bob")
    client.expect_error(f"/{rid}/close", "x", "InvalidInput", 422)
    client.expect_error(f"/{rid}/close", {}, "InvalidAuthentication", 401, user=None)


def test_hidden_linked_record_goes_with_the_object_linking_it(client, project):
    hidden = new_record(client, project, hidden=True)
    kept = new_record(client, project, hidden=True)
    top = new_record(client, project, details={"a": {"$dnanexus_link": hidden}, "b": {"$dnanexus_link": kept}})
    new_record(client, project, details={"still": {"$dnanexus_link": kept}})
    client.ok(f"/{project}/removeObjects", {"objects": [top]})
    client.expect_error(f"/{hidden}/describe", {}, "ResourceNotFound", 404)
    assert client.ok(f"/{kept}/describe", {})["hidden"] is True

"""dxpy, unmodified, drives DXRecord through its whole life on the reference server."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

DEFAULT_RECORD_KEYS = {"id", "project", "class", "types", "created", "modified", "state", "hidden", "links",
                       "name", "folder", "tags"}


def test_new_record_describes_with_the_defaults(dx, dx_project):
    record = dx.new_dxrecord()
    desc = record.describe()
    assert DEFAULT_RECORD_KEYS <= desc.keys()
    assert "details" not in desc and "properties" not in desc
    assert (desc["id"], desc["project"], desc["class"], desc["name"]) == (record.get_id(), dx_project, "record",
                                                                          record.get_id())
    assert (desc["state"], desc["hidden"], desc["folder"]) == ("open", False, "/")
    assert (desc["types"], desc["tags"], desc["links"]) == ([], [], [])
    assert type(desc["created"]) is int and type(desc["modified"]) is int
    assert record.get_details() == {}
    assert record.describe(incl_properties=True, incl_details=True)["properties"] == {}


def test_describe_fields_are_exact(dx, dx_project):
    record = dx.new_dxrecord(name="exact", tags=["a"])
    assert record.describe(fields={"name", "tags"}) == {"id": record.get_id(), "name": "exact", "tags": ["a"]}
    mixed = record.describe(fields={"properties"}, default_fields=True)
    assert DEFAULT_RECORD_KEYS <= mixed.keys() and mixed["properties"] == {} and "details" not in mixed


def test_creation_metadata_is_kept(dx, dx_project):
    record = dx.new_dxrecord(details={"n": 1}, name="made", tags=["t1", "t2"], types=["Table"],
                             properties={"k": "v"}, folder="/deep/er", parents=True, hidden=True)
    desc = record.describe(incl_properties=True, incl_details=True)
    assert (desc["name"], desc["folder"], desc["hidden"]) == ("made", "/deep/er", True)
    assert (desc["tags"], desc["types"], desc["properties"], desc["details"]) == (["t1", "t2"], ["Table"],
                                                                                  {"k": "v"}, {"n": 1})


def test_details_and_deduplicated_links(dx, dx_project):
    target = dx.new_dxrecord(name="target", close=True)
    record = dx.new_dxrecord()
    details = {"one": dx.dxlink(target.get_id()), "two": [dx.dxlink(target.get_id())], "self": dx.dxlink(record)}
    record.set_details(details)
    assert record.get_details() == details
    assert sorted(record.describe()["links"]) == sorted({target.get_id(), record.get_id()})
    record.set_details(["an", "array", 1])
    assert record.get_details() == ["an", "array", 1]
    assert record.describe()["links"] == []


def test_tags_types_and_properties_keep_their_rules(dx, dx_project):
    record = dx.new_dxrecord()
    record.add_tags(["foo", "othertag", "foo"])
    record.remove_tags(["foo", "absent"])
    assert record.describe()["tags"] == ["othertag"]
    record.add_types(["foo", "othertype"])
    record.remove_types(["foo"])
    assert record.describe()["types"] == ["othertype"]
    record.set_properties({"a": "1", "b": "2"})
    record.set_properties({"a": None, "c": "3"})
    record.set_properties({})
    assert record.get_properties() == {"b": "2", "c": "3"}


def test_rename_and_visibility(dx, dx_project):
    record = dx.new_dxrecord(name="before")
    record.rename("after")
    record.hide()
    desc = record.describe()
    assert (desc["name"], desc["hidden"]) == ("after", True)
    record.unhide()
    assert record.describe()["hidden"] is False


def test_close_freezes_types_details_visibility_but_not_names(dx, dx_project):
    record = dx.new_dxrecord(details={"frozen": True})
    record.close()
    assert record.describe()["state"] == "closed"
    record.close()  # closing a closed record is a no-op success
    for change in (lambda: record.set_details({"x": 1}), lambda: record.add_types(["T"]), record.hide):
        with pytest.raises(dx.exceptions.InvalidState):
            change()
    record.rename("renamed after close")
    record.add_tags(["late"])
    record.set_properties({"late": "yes"})
    desc = record.describe(incl_properties=True, incl_details=True)
    assert (desc["name"], desc["tags"], desc["properties"]) == ("renamed after close", ["late"], {"late": "yes"})
    assert desc["details"] == {"frozen": True}


def test_new_record_already_closed(dx, dx_project):
    record = dx.new_dxrecord(close=True)
    assert record.describe()["state"] == "closed"
    closed = {r["id"] for r in dx.find_data_objects(classname="record", project=dx_project, state="closed")}
    assert record.get_id() in closed


def test_init_from_copies_metadata(dx, dx_project):
    source = dx.new_dxrecord(details={"from": "source"}, name="source", tags=["src"], types=["A"])
    copy = dx.new_dxrecord(init_from=source, types=["B"])
    desc = copy.describe(incl_details=True)
    assert (desc["name"], desc["tags"], desc["types"], desc["details"]) == ("source", ["src"], ["B"],
                                                                           {"from": "source"})


def test_list_projects_after_clone(dx, dx_project, client):
    other = client.new_project("clone-target")
    record = dx.new_dxrecord(close=True)
    clone = record.clone(other)
    assert clone.get_id() == record.get_id()
    assert record.list_projects() == {dx_project: "ADMINISTER", other: "ADMINISTER"}


def test_record_new_nonce_survives_a_retry(dx, dx_project):
    request = {"project": dx_project, "name": "once", "nonce": "dxconform-record-retry-1"}
    first = dx.api.record_new(dict(request))
    assert dx.api.record_new(dict(request)) == first
    with pytest.raises(dx.exceptions.InvalidInput):
        dx.api.record_new({**request, "tags": ["different"]})
    found = list(dx.find_data_objects(classname="record", project=dx_project, name="once"))
    assert [r["id"] for r in found] == [first["id"]]
